// sleepers: 10000 async functions each sleeping 10 ms (setTimeout) at once, all awaited with
// Promise.all; the second line is the wall time of the sleeping part in milliseconds
const { performance } = require("perf_hooks");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const n = 10000;
  let woke = 0;
  const sleeper = async () => {
    await sleep(10);
    woke += 1;
  };
  const start = performance.now();
  const all = [];
  for (let i = 0; i < n; i++) all.push(sleeper());
  await Promise.all(all);
  const elapsed = performance.now() - start;
  console.log(woke);
  console.log("sleep_ms", Math.floor(elapsed));
}

main();
