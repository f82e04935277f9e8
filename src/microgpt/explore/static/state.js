// What the page holds between answers, kept apart per side. Side 0 shows the
// model chosen in the menu; side 1, when comparing, the other one. There is no
// "current side": every function that draws is handed the side it draws.

// Page-wide: the models, the open view, the position read, and the views that
// have one column (backprop, the ladder, training).
export const page = { models: [], view: "card", pos: null, player: null, backprop: null, bpStep: 0,
                      ladder: null, session: null, live: null, asked: {} };

export function newSide(index) {
  return { index, model: null, card: null, score: null, trace: null, sample: null, shown: 0, asked: {} };
}
export const sides = [newSide(0)];

// An element of a side's column: side 1's copies have ids ending in "--b".
export const sideEl = (side, id) => document.getElementById(side.index ? `${id}--b` : id);

// Answers can come back in any order. Every request is numbered when it is
// asked (one count for the page, so a number is never reused), and `asked`
// keeps, per view, the newest number of that side (or of the page). `ask`
// returns a check that the answer is still the newest: an older one, or one
// for a model the side no longer shows, is dropped instead of drawn.
let lastAsked = 0;
export function ask(owner, view) {
  const n = ++lastAsked;
  owner.asked[view] = n;
  return () => owner.asked[view] === n;
}

// Drop every answer on its way to this side (its model changed, or it closed).
export function forget(side) { side.asked = {}; }
