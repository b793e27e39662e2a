// @ts-check
// Text drawn on a canvas and shown as a sprite: name tags, "generated" signs, overlay boards in headsets.
// Visitor and curator text is drawn as pixels, so it never becomes markup.
import * as THREE from "three";

/**
 * `draw(ctx, width, height)` paints the canvas; the sprite is `widthM` metres wide, its height in proportion.
 * @param {number} width pixels
 * @param {number} height pixels
 * @param {(ctx: CanvasRenderingContext2D, width: number, height: number) => void} draw
 * @param {number} widthM
 * @param {{overlay?: boolean}} [options] overlay: drawn over the scene, never hit by a ray
 * @returns {THREE.Sprite}
 */
export function canvasSprite(width, height, draw, widthM, { overlay = false } = {}) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  draw(canvas.getContext("2d"), width, height);
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  const material = new THREE.SpriteMaterial({ map: texture, transparent: true, depthWrite: false, depthTest: !overlay });
  const sprite = new THREE.Sprite(material);
  sprite.scale.set(widthM, (widthM * height) / width, 1);
  if (overlay) {
    sprite.renderOrder = 10; // drawn over the scene: a sign, not part of it
    sprite.raycast = () => {}; // and not somewhere to walk or click
  }
  return sprite;
}
