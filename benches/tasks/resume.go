// resume: 1000000 round trips with one goroutine over a pair of unbuffered channels.
// Go 1.19 has no coroutine (resume/yield) primitive — iter.Pull only arrived in Go 1.23 —
// so this is the nearest equivalent, and it is the same work as pingpong.go.
package main

import "fmt"

func main() {
	const n = 1000000
	in := make(chan int)
	out := make(chan int)
	go func() {
		x := 0
		for {
			out <- x + 1
			x = <-in
		}
	}()
	v := <-out // the first resume: runs the coroutine up to its first yield
	for i := 1; i < n; i++ {
		in <- v
		v = <-out
	}
	fmt.Println(v)
}
