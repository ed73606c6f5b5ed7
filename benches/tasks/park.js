// park: 1000000 async functions all suspended in an await on one promise that is never
// resolved (run.sh measures the peak RSS, minus that of n = 0). An async function runs up to
// its first await when called, so after the loop every one of them is parked.
const n = 1000000;
const gate = new Promise(() => {});
let parked = 0;

async function receiver() {
  parked += 1;
  await gate;
}

for (let i = 0; i < n; i++) receiver();
console.log("parked", parked);
