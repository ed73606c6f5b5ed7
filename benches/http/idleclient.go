// idleclient: opens N keep-alive connections to an HTTP/1.1 server, does one GET on each,
// then keeps them all open and idle, for measuring the server's memory per idle
// connection (benches/http/run.sh).
//
//	go build -o idleclient idleclient.go
//	./idleclient -addr 127.0.0.1:8080 -n 10000 -idle 8s
//
// Prints "ready N SECONDS" once every connection has had its reply (the script then reads
// the server's VmRSS), stays idle for -idle, then sends a second request on every
// connection and prints "alive K" (K = connections that still answered: a server that
// closes idle connections early shows up here), and exits.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var request = []byte("GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: idleclient\r\n\r\n")

type conn struct {
	c net.Conn
	r *bufio.Reader
}

// roundTrip sends one request and reads one response (Content-Length body only).
func (k *conn) roundTrip() error {
	k.c.SetDeadline(time.Now().Add(30 * time.Second))
	defer k.c.SetDeadline(time.Time{})
	if _, err := k.c.Write(request); err != nil {
		return err
	}
	status, err := k.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200")) {
		return fmt.Errorf("status %q", bytes.TrimSpace(status))
	}
	length := -1
	for {
		line, err := k.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			break
		}
		if i := bytes.IndexByte(line, ':'); i > 0 &&
			bytes.EqualFold(bytes.TrimSpace(line[:i]), []byte("content-length")) {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(line[i+1:])))
		}
	}
	if length < 0 {
		return fmt.Errorf("no content-length")
	}
	_, err = io.CopyN(io.Discard, k.r, int64(length))
	return err
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "server address")
	n := flag.Int("n", 10000, "connections")
	par := flag.Int("par", 100, "connections opened at the same time")
	idle := flag.Duration("idle", 8*time.Second, "how long to stay idle after ready")
	flag.Parse()

	start := time.Now()
	conns := make([]*conn, *n)
	var failed atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, *par)
	var wg sync.WaitGroup
	for i := 0; i < *n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			var err error
			for attempt := 0; attempt < 5; attempt++ {
				var c net.Conn
				c, err = net.DialTimeout("tcp", *addr, 10*time.Second)
				if err != nil {
					time.Sleep(100 * time.Millisecond)
					continue
				}
				k := &conn{c: c, r: bufio.NewReaderSize(c, 512)}
				if err = k.roundTrip(); err != nil {
					c.Close()
					continue
				}
				conns[i] = k
				return
			}
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err)
		}(i)
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		fmt.Fprintf(os.Stderr, "idleclient: %d connections failed, first error: %v\n", f, firstErr.Load())
	}
	fmt.Printf("ready %d %.2f\n", int64(*n)-failed.Load(), time.Since(start).Seconds())

	time.Sleep(*idle)

	var alive atomic.Int64
	for _, k := range conns {
		if k == nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(k *conn) {
			defer func() { <-sem; wg.Done() }()
			if k.roundTrip() == nil {
				alive.Add(1)
			}
			k.c.Close()
		}(k)
	}
	wg.Wait()
	fmt.Printf("alive %d\n", alive.Load())
}
