// pingpong: 1000000 round trips over two unbuffered channels between two goroutines
package main

import "fmt"

func main() {
	const n = 1000000
	ping := make(chan int)
	pong := make(chan int)
	go func() {
		for i := 0; i < n; i++ {
			v := <-ping
			pong <- v + 1
		}
	}()
	sum := 0
	for i := 0; i < n; i++ {
		ping <- i
		sum += <-pong
	}
	fmt.Println(sum)
}
