// pingpong: 1000000 round trips between two async functions over two one-slot channels built
// on promises (JavaScript has no channel; the small one here hands a value straight to a
// waiting receiver, and with strict alternation one slot does what an unbuffered channel does)
class Chan {
  constructor(cap) {
    this.cap = cap;
    this.buf = new Array(cap);
    this.head = 0;
    this.count = 0;
    this.closed = false;
    this.receivers = []; // resolve functions of waiting receives (only while empty)
    this.senders = []; // [value, resolve] of waiting sends (only while full)
  }
  // undefined when done at once, else a promise to await
  send(v) {
    if (this.receivers.length > 0) {
      this.receivers.shift()(v);
      return undefined;
    }
    if (this.count < this.cap) {
      this.buf[(this.head + this.count) % this.cap] = v;
      this.count += 1;
      return undefined;
    }
    return new Promise((resolve) => this.senders.push([v, resolve]));
  }
  // the value (undefined when closed and drained), or a promise of it
  recv() {
    if (this.count > 0) {
      const v = this.buf[this.head];
      this.head = (this.head + 1) % this.cap;
      this.count -= 1;
      if (this.senders.length > 0) {
        const [w, resolve] = this.senders.shift();
        this.buf[(this.head + this.count) % this.cap] = w;
        this.count += 1;
        resolve();
      }
      return v;
    }
    if (this.closed) return undefined;
    return new Promise((resolve) => this.receivers.push(resolve));
  }
  close() {
    this.closed = true;
    for (const resolve of this.receivers.splice(0)) resolve(undefined);
  }
}

async function main() {
  const n = 1000000;
  const ping = new Chan(1);
  const pong = new Chan(1);
  const echo = (async () => {
    for (let i = 0; i < n; i++) {
      let v = ping.recv();
      if (v instanceof Promise) v = await v;
      const p = pong.send(v + 1);
      if (p) await p;
    }
  })();
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = ping.send(i);
    if (p) await p;
    let v = pong.recv();
    if (v instanceof Promise) v = await v;
    sum += v;
  }
  await echo;
  console.log(sum);
}

main();
