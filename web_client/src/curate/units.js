// @ts-check
// Numbers as the curator types and the scene stores them.

export const RAD = Math.PI / 180;

/**
 * @param {number[]} values
 * @param {number} places decimal places kept
 * @returns {number[]}
 */
export function round(values, places) {
  return values.map((v) => Number(v.toFixed(places)));
}
