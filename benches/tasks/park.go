// park: 1000000 goroutines blocked on the receive of one unbuffered channel; once they are
// all there, print and exit (run.sh measures the peak RSS, minus that of n = 0)
package main

import (
	"fmt"
	"sync"
)

func main() {
	const n = 1000000
	ch := make(chan int)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			wg.Done()
			<-ch
		}()
	}
	wg.Wait()
	fmt.Println("parked", n)
}
