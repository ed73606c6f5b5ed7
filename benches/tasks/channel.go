// channel: 1000000 integers through a channel of capacity 128 from one goroutine to another
package main

import "fmt"

func main() {
	const n = 1000000
	ch := make(chan int, 128)
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	sum := 0
	for v := range ch {
		sum += v
	}
	fmt.Println(sum)
}
