// @ts-check
// The curator page's own words, in the ten languages of the visitor page (i18n.js), right-to-left ones included.
// English has every key; a language without one shows it in English. The language is ?lang=, else the one chosen
// on the page (kept in this browser), else the browser's own.
import { LANGUAGES, Words } from "../i18n.js";
import { TRANSLATIONS } from "./translations.js";

/** @type {Record<string, string>} */
const EN = {
  // the page and its bar
  page_title: "Third Space · Curate",
  page_language: "Page language",
  signin_lead: "Sign in with your token. An administrator makes one with:",
  token: "Token",
  sign_in: "Sign in",
  sign_out: "Sign out",
  guide_note: "You are signed in as a guide: open a scene from the visitors' page and choose “Lead as guide”.",
  not_curator: "This token is not a curator's.",
  scene: "Scene",
  publish: "Publish",
  draft_revision: "draft r{revision} · {published}",
  published_revision: "published: r{revision}",
  not_published: "not published",
  error: "Error: {error}",
  scene_tree: "Scene tree",
  scene_view: "Scene view",
  edit: "Edit",
  new_scene: "New scene",
  new_scene_title: "Make a new scene: empty, or a copy of one",
  new_scene_heading: "A new scene",
  start_from: "Start from",
  start_empty: "nothing: an empty scene",
  start_copy: "a copy of {scene}",
  scene_id: "Id, as in its links: lower-case letters, digits and -",
  scene_id_rule: "An id is 1 to 64 lower-case letters, digits or '-', beginning with a letter or a digit.",
  scene_title: "Title",
  scene_title_needed: "A scene needs a title.",
  scene_language: "Its language, as a tag: en, ar, ja…",
  create: "Create",
  cancel: "Cancel",
  created: "Created {scene}: a draft until you publish it.",
  what_created: "created",
  what_copied: "copied from {scene}",
  // the tools over the view
  move: "Move",
  move_title: "Move (W)",
  rotate: "Rotate",
  rotate_title: "Rotate (E)",
  scale: "Scale",
  scale_title: "Scale (R)",
  snap: "Snap",
  snap_title: "Snap to a 0.25 m grid, 15° turns, 0.1 scale steps and the surface below (G)",
  undo: "Undo",
  redo: "Redo",
  undo_step: "Undo {what} ({key})",
  redo_step: "Redo {what} ({key})",
  nothing_undo_key: "Nothing to undo ({key})",
  nothing_redo_key: "Nothing to redo ({key})",
  duplicate: "Duplicate",
  duplicate_title: "Duplicate the selection (Ctrl+D)",
  delete: "Delete",
  delete_title: "Delete the selection (Delete)",
  guides: "Guides",
  guides_title: "Show the scene's bounds and spawn points",
  eye_height: "Eye height",
  eye_height_title: "See the scene from the first spawn point at a visitor's eye height",
  preview_vr: "Preview in VR",
  preview_vr_title: "Stand in the draft with a headset, at the first spawn point",
  preview_vr_exit: "Back to editing",
  preview_vr_started: "In VR: you stand at the first spawn point. Take the headset's exit, or press Escape, to come back.",
  xr_failed: "Cannot start VR: {error}",
  // the side tabs
  tab_node: "Node",
  tab_library: "Library",
  tab_tours: "Tours",
  tab_review: "Review",
  tab_history: "History",
  // the node panel
  scene_texts: "Scene texts",
  transform_hint: "Drag the gizmo, or type values (metres, degrees).",
  position: "Position",
  rotation: "Rotation",
  asset: "Asset",
  no_asset: "none (a group)",
  real_size: "real size {real}, shown at {shown}",
  metres: "{value} m",
  chat_rules: "Chat rules",
  blocklist: "Blocklist: words or phrases refused in chat, one per line, any language",
  glossary: "Glossary: curated terms machine translation keeps (JSON, see docs/chat.md)",
  save_chat_rules: "Save chat rules",
  glossary_invalid: "Not saved: the glossary is not valid JSON ({error})",
  field_name: "name",
  field_description: "description",
  field_title: "title",
  field_text: "text",
  field_narration: "narration",
  field_audio: "audio",
  field_captions: "captions",
  field_image: "image",
  missing_text: "No {field} in {language} yet.",
  machine_translated: "machine-translated (needs review)",
  is_machine_translated: "{field} ({language}) is machine-translated",
  add_language_label: "Add a language to every text",
  add_language_aria: "language tag to add (BCP 47, for example ja or pt-BR)",
  add_language: "Add language",
  language_tag_rule: "A language tag is 2 or 3 letters, then optional parts after '-': ja, pt-BR, zh-Hant.",
  language_known: "The scene already has {language}.",
  scene_itself: "The scene itself: texts, languages, chat rules",
  awaiting_review: "awaiting review",
  // the library
  add_from_recipe: "Add from a recipe",
  recipe: "Recipe",
  recipe_preview: "Recipe preview",
  preview: "Preview",
  add_to_scene: "Add to scene",
  generated_wait: "Generated objects wait in the review queue until a curator approves them.",
  asset_library: "Asset library",
  library_hint: "\"Add to scene\" puts it on the surface in the middle of the view; on a desktop you can also drag it onto the view. It is shown at most 2 m wide and 2.5 m tall, clear of the spawn points.",
  search_placeholder: "Search: lantern, vase…",
  search_label: "Search the asset library",
  which_assets: "Which assets",
  filter_all: "everything",
  filter_made: "made by people (files, uploads)",
  filter_generated: "generated",
  filter_waiting: "waiting for review",
  shown_count: "{shown} of {total} shown",
  status_approved: "approved",
  status_pending: "pending",
  status_rejected: "rejected",
  seed: "seed",
  cannot_preview: "Cannot preview: {error}",
  cannot_add: "Cannot add {asset}: {error}",
  added: "Added {node}: {note}.",
  added_waits: "Added {node} ({note}); it waits for review before visitors see it.",
  size_shown_at: "its real size is {size} m, shown at {scale}×",
  // the review queue
  waiting_for_review: "Waiting for review",
  nothing_waiting: "Nothing is waiting.",
  review_note: "A note for the record",
  review_note_on: "Note on review {id}",
  approve: "Approve",
  reject: "Reject",
  approved_subject: "Approved {subject}.",
  rejected_subject: "Rejected {subject}.",
  generated_by: "{subject}: {how} by {who}",
  generated: "generated",
  kind_asset: "asset",
  // the history tab
  languages: "Languages",
  revisions: "Revisions",
  published: "published",
  roll_back_to: "Roll back to r{revision}",
  rolled_back: "The draft is back to r{revision} (as r{now}); publish to show it to visitors.",
  complete: "complete",
  gaps: "gaps",
  overlays_without_text: "overlays without text: {list}",
  narration_without_audio: "narration without audio: {list}",
  narration_without_captions: "narration without captions: {list}",
  stop_lacks: "stop {stop} lacks {missing}",
  and: " and ",
  // saving, and what each edit is called (the status line, the undo buttons, the revision list)
  saved: "Saved {what} (r{revision})",
  not_saved: "Not saved: {error}",
  stale: "Someone else changed the draft first; it is reloaded (r{revision}). Please redo: {what}.",
  other_curator: "Another curator changed the draft; it is reloaded.",
  author_changed: "{author} changed the draft (r{revision}).",
  nothing_to_undo: "Nothing to undo.",
  nothing_to_redo: "Nothing to redo.",
  cannot_undo: "Cannot undo \"{what}\": {reason}. That step is dropped.",
  cannot_redo: "Cannot redo \"{what}\": {reason}. That step is dropped.",
  changed_since: "{what} was changed since",
  scene_part_changed_since: "the scene's {part} was changed since",
  undone: "Undone: {what} (r{revision}).",
  redone: "Redone: {what} (r{revision}).",
  undo_of: "undo {what}",
  redo_of: "redo {what}",
  what_transform: "{node}'s transform",
  what_moved: "moved {nodes}",
  what_duplicated: "duplicated {nodes}",
  what_removal: "removal of {nodes}",
  what_removed: "removed {nodes}",
  what_new: "a new {asset}",
  what_language: "language {language}",
  what_chat_rules: "the chat rules",
  what_text: "{field} [{language}]",
  what_roll_back: "a roll-back to r{revision}",
  duplicated: "Duplicated {nodes} as {copies}.",
  removed: "Removed {nodes} and everything on it. Undo (Ctrl+Z) brings it back.",
  published_now: "Published r{revision}: visitors see it now.",
  publish_stale: "The draft changed before publishing; it is reloaded. Check it and publish again.",
  not_published_error: "Not published: {error}",
  // the tours tab
  overlays: "Overlays",
  anchors: "Physical anchors",
  anchors_hint: "Printed markers in the real gallery: an AR visitor who scans one sees the scene's overlays over the room.",
  add_anchor: "Add an anchor: click where it hangs",
  tours: "Tours",
  new_tour: "New tour",
  kind_label: "label",
  kind_panel: "panel",
  kind_narration: "narration",
  kind_reconstruction: "reconstruction",
  kind_path: "path",
  add_to_node: "Add to {node}:",
  select_to_add: "Select an object in the view or the tree to add an overlay to it:",
  on_node: "on {node}",
  at_anchor: "at anchor {anchor}",
  placed_on: "Placed on",
  object_option: "object: {name}",
  anchor_option: "anchor: {id}",
  offset: "Offset",
  reconstruction_asset: "The reconstruction to show",
  remove_id: "Remove {id}",
  shown: "Shown",
  always: "always",
  when_near: "when a visitor is near",
  at_stop: "at tour stop {stop}",
  within: "Within (metres)",
  point_n: "Point {n}",
  remove: "Remove",
  add_point: "Add a point",
  path_hint: "The way to walk, in metres from where the path is placed:",
  link_field: "{field} · {language} (link)",
  link_rule: "A link starts with https://, http:// or / (a file on this server).",
  media_missing: "Nothing at {url} (HTTP {status}): visitors would get no {field}.",
  media_not_audio: "{url} is not an audio file (it is {type}).",
  media_not_image: "{url} is not an image (it is {type}).",
  media_not_captions: "{url} is not WebVTT captions (a WebVTT file begins with WEBVTT).",
  no_type: "of no stated type",
  media_unreachable: "Cannot load {url} to check it.",
  anchor_card: "anchor · {id}",
  facing_reader: "Facing (degrees: the way a visitor reading it faces)",
  marker_size: "Printed marker size (metres)",
  add_panel_here: "Add a panel here",
  click_marker: "Click in the view where the printed marker hangs (Escape to cancel).",
  anchor_holds: "{id} holds {overlays}: place them elsewhere or remove them first.",
  tour_card: "tour · {id} · {count} stops",
  stops_hint: "Stops, in order: drag one by its handle (or use the arrows) to move it.",
  add_stop: "Add a stop",
  remove_tour: "Remove the tour {id}",
  drag_stop: "Drag to move this stop",
  stop_details: "Texts, overlays, where to stand",
  shown_at_stop: "Shown at this stop:",
  no_overlays: "no overlays yet",
  where_to_stand: "Where to stand:",
  facing: "Facing (degrees)",
  set_stand: "Set where to stand: click the floor",
  move_up: "move {id} up",
  move_down: "move {id} down",
  click_floor: "Click the floor where visitors stand for {stop} (Escape to cancel).",
  new_tour_title: "New tour",
  stop_title: "Stop {n}",
  what_placed_on: "{overlay} placed on {id}",
  what_overlay_asset: "{overlay}'s asset",
  what_shows: "when {overlay} shows",
  what_point_removed: "{overlay}: a point removed",
  what_point_added: "{overlay}: a point added",
  what_overlay_added: "{kind} {id} added",
  what_overlay_removed: "overlay {id} removed",
  what_anchor_added: "anchor {id} added",
  what_anchor_removed: "anchor {id} removed",
  what_stop_overlays: "{stop}'s overlays",
  what_tour_added: "tour {id} added",
  what_stop_added: "stop {id} added",
  what_stop_moved: "stop {id} moved to place {place}",
  what_stop_removed: "stop {id} removed",
  what_tour_removed: "tour {id} removed",
  what_stand: "where to stand for {stop}",
};

/** The curator page's words: one per page. */
export const words = new Words({ en: EN, ...TRANSLATIONS });

/**
 * The page's text for `key` in the page's language, with `{name}` placeholders filled from `vars`.
 * @param {string} key
 * @param {Record<string, string | number>} [vars]
 */
export function t(key, vars) {
  return words.t(key, vars);
}

const CHOSEN = "thirdspace.curate.language";

/**
 * Put the page in its language (?lang=, else the one chosen here before, else the browser's) and offer the
 * others in `select`; choosing one keeps it in this browser and shows the page again in it.
 * @param {HTMLSelectElement[]} selects
 * @param {URLSearchParams} params
 */
export function chooseLanguage(selects, params) {
  const wanted = params.get("lang") || localStorage.getItem(CHOSEN) || navigator.language || "en";
  const language = words.setLanguage(wanted);
  for (const select of selects) {
    select.replaceChildren(
      ...LANGUAGES.map((tag) => {
        const option = document.createElement("option");
        option.value = tag;
        option.textContent = new Intl.DisplayNames([tag], { type: "language" }).of(tag) || tag;
        option.lang = tag;
        return option;
      }),
    );
    select.value = language;
    select.addEventListener("change", () => {
      localStorage.setItem(CHOSEN, select.value);
      const next = new URL(location.href);
      next.searchParams.delete("lang");
      location.assign(next); // every panel drawn again in the new language (the undo history is kept)
    });
  }
  return language;
}
