// resume: 1000000 generator next() / yield round trips of one generator
function* coroutine() {
  let x = 0;
  for (;;) {
    x = yield x + 1;
  }
}

const n = 1000000;
const c = coroutine();
let v = 0;
for (let i = 0; i < n; i++) {
  v = c.next(v).value;
}
console.log(v);
