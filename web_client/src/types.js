// @ts-check
// The shapes of what the server sends: scene documents (server/thirdspace/scenes/scene.schema.json), asset
// manifests (docs/assets.md) and control messages (docs/protocol.md). Types only: import them with
// `import("./types.js").Name` in JSDoc.

/** @typedef {[number, number, number]} Vec3 */
/** @typedef {[number, number, number, number]} Quat x, y, z, w */
/** @typedef {Record<string, string>} LocalText a text per language tag */

/**
 * @typedef {object} Light
 * @property {"ambient" | "hemisphere" | "directional" | "point"} type
 * @property {string} [colour]
 * @property {string} [ground_colour]
 * @property {number} [intensity]
 * @property {Vec3} [position]
 * @property {number} [distance]
 */

/**
 * @typedef {object} Environment
 * @property {string} [sky_colour]
 * @property {{colour: string, near: number, far: number}} [fog]
 * @property {Light[]} [lights]
 */

/**
 * @typedef {object} NodeSpec a scene node: a placement of an asset, or an empty group
 * @property {string} id
 * @property {string} [asset]
 * @property {string} [parent]
 * @property {Vec3} [position]
 * @property {Quat} [rotation]
 * @property {Vec3} [scale]
 * @property {LocalText} [name]
 * @property {LocalText} [description]
 */

/**
 * @typedef {object} Anchor a printed marker in the real gallery, in scene coordinates
 * @property {string} id
 * @property {LocalText} [name]
 * @property {Vec3} position
 * @property {number} [yaw_deg]
 * @property {number} [marker_size_m]
 */

/**
 * @typedef {object} Placement where an overlay sits: on a node or an anchor, plus an offset
 * @property {string} [node]
 * @property {string} [anchor]
 * @property {Vec3} [offset]
 */

/**
 * @typedef {object} Overlay
 * @property {string} id
 * @property {"label" | "panel" | "narration" | "reconstruction" | "path"} kind
 * @property {Placement} at
 * @property {LocalText} [title]
 * @property {LocalText} [text]
 * @property {LocalText} [image]
 * @property {LocalText} [audio]
 * @property {LocalText} [captions]
 * @property {string} [asset]
 * @property {Vec3[]} [points]
 * @property {{within_m?: number, stop?: string}} [trigger]
 */

/**
 * @typedef {object} TourStop
 * @property {string} id
 * @property {LocalText} title
 * @property {LocalText} [narration]
 * @property {string[]} [overlays]
 * @property {{position: Vec3, yaw_deg?: number}} [stand]
 */

/**
 * @typedef {object} Tour
 * @property {string} id
 * @property {LocalText} title
 * @property {TourStop[]} stops
 */

/**
 * @typedef {object} GlossaryEntry
 * @property {LocalText} terms
 * @property {boolean} [do_not_translate]
 */

/**
 * @typedef {object} MachineShare how much of a published scene a machine made
 * @property {number} objects the nodes with an asset
 * @property {number} generated_objects of those, the ones whose asset is generated
 * @property {number} texts every text, one per language
 * @property {number} machine_texts of those, the machine translations a person approved
 */

/**
 * @typedef {object} SceneDocument
 * @property {string} id
 * @property {string} default_language
 * @property {LocalText} title
 * @property {LocalText} [description]
 * @property {string[]} [languages] declared beside those the texts use
 * @property {number} [capacity]
 * @property {Bounds} bounds
 * @property {Environment} [environment]
 * @property {{blocklist?: string[], glossary?: GlossaryEntry[]}} [chat]
 * @property {{position: Vec3, yaw_deg?: number}[]} spawn_points
 * @property {NodeSpec[]} nodes
 * @property {Anchor[]} [anchors]
 * @property {Overlay[]} [overlays]
 * @property {Tour[]} [tours]
 * @property {Record<string, string[]>} [machine_translated] text path -> languages a machine translated and a person approved
 */

/**
 * @typedef {object} Provenance an asset's provenance record (docs/assets.md)
 * @property {boolean} generated
 * @property {string} [digital_source_type]
 * @property {string} [generator]
 * @property {string} [generator_version]
 * @property {string} [recipe]
 * @property {Record<string, unknown>} [params]
 * @property {number} [seed]
 * @property {string} [prompt]
 * @property {string} [service]
 * @property {string} [made_by]
 * @property {string} [made_at]
 */

/**
 * @typedef {object} AssetLevel
 * @property {string} url
 * @property {number} size bytes
 * @property {number} triangles
 */

/**
 * @typedef {object} ManifestAsset
 * @property {string} id
 * @property {string} [status] review status, in a curator's manifest
 * @property {number} distance_m from the spawn point
 * @property {AssetLevel[]} levels finest first
 * @property {Provenance} provenance
 * @property {string} metadata_url
 */

/**
 * @typedef {object} Manifest a scene's assets, nearest the spawn point first
 * @property {Vec3} spawn
 * @property {ManifestAsset[]} assets
 * @property {{lowest: number}} [bytes]
 */

/** @typedef {{min: Vec3, max: Vec3}} Bounds */

/**
 * @typedef {object} Visitor
 * @property {number} id
 * @property {string} name
 * @property {string} [language]
 * @property {string} colour
 * @property {string} [avatar] the avatar style (avatar-styles.js); an unknown one is drawn as the default
 */

/**
 * @typedef {object} ChatMessage
 * @property {number} id
 * @property {number} from
 * @property {string} name
 * @property {string} language
 * @property {string} text
 * @property {number} [time]
 * @property {{phrase: string, thing?: string}} [quick]
 * @property {string} [detected]
 */

/**
 * @typedef {object} ChatTranslation
 * @property {number} id
 * @property {string} language
 * @property {string} [status]
 * @property {string} [text]
 */

/**
 * @typedef {object} Welcome the answer to a hello (or a redirect to another node)
 * @property {number} id
 * @property {string} room
 * @property {string} [scene]
 * @property {number} tick_hz
 * @property {Bounds} bounds
 * @property {{position: Vec3, yaw_deg?: number}} spawn
 * @property {Visitor[]} visitors
 * @property {ChatMessage[]} chat
 * @property {string} [resume]
 * @property {string[]} [nodes]
 * @property {boolean} [resumed]
 * @property {string} [redirect]
 */

/**
 * @typedef {object} TourStateMessage
 * @property {string} tour
 * @property {number} index
 * @property {number} [count]
 * @property {string} [stop]
 * @property {{position: Vec3, yaw_deg?: number}} [stand]
 * @property {number} guide
 * @property {number[]} members
 */

/**
 * @typedef {object} TourOffer a tour_available message
 * @property {string} tour
 * @property {number} guide
 * @property {string} name
 * @property {string} [room]
 */

/**
 * @typedef {object} SceneUpdate a scene message: a curator published
 * @property {string} scene
 * @property {number} revision
 * @property {SceneDocument} document
 */

/**
 * @typedef {object} SnapshotAvatar
 * @property {number} id
 * @property {number} flags
 * @property {boolean} updated
 * @property {Float32Array | null} parts head, left, right as px py pz qx qy qz qw; null when not moved
 */

/** @typedef {{seq: number, avatars: SnapshotAvatar[]}} Snapshot */

/** @typedef {{code: number, reason: string}} CloseDetail */

/**
 * @typedef {object} Hello
 * @property {string} scene
 * @property {string} name
 * @property {string} language
 * @property {string} colour
 * @property {string} [avatar] the avatar style picked in the lobby
 * @property {string} [room]
 * @property {string} [resume]
 */

export {};
