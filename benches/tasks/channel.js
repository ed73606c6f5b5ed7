// channel: 1000000 integers through a bounded channel of capacity 128 from one async function
// to another (JavaScript has no channel: this is a small one built on promises, the same as in
// pingpong.js; a send or receive that need not wait does not create a promise)
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
  const ch = new Chan(128);
  const producer = (async () => {
    for (let i = 0; i < n; i++) {
      const p = ch.send(i);
      if (p) await p;
    }
    ch.close();
  })();
  let sum = 0;
  for (;;) {
    let v = ch.recv();
    if (v instanceof Promise) v = await v;
    if (v === undefined) break;
    sum += v;
  }
  await producer;
  console.log(sum);
}

main();
