// spawn: 1000000 async functions, each adding 1 to a shared counter, joined with a
// wait-group-like promise resolved by the last one. Each starts with `await null` so that its
// body runs later from the microtask queue, as a started task would, instead of inline in the
// caller (an async function runs synchronously up to its first await).
const n = 1000000;
let count = 0;
let remaining = n;
let allDone;
const done = new Promise((resolve) => (allDone = resolve));

async function work() {
  await null;
  count += 1;
  remaining -= 1;
  if (remaining === 0) allDone();
}

for (let i = 0; i < n; i++) work();
done.then(() => console.log(count));
