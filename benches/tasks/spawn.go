// spawn: 1000000 goroutines, each adding 1 to an atomic counter, joined with a WaitGroup
package main

import (
	"fmt"
	"sync"
	"sync/atomic"
)

func main() {
	const n = 1000000
	var count int64
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			atomic.AddInt64(&count, 1)
			wg.Done()
		}()
	}
	wg.Wait()
	fmt.Println(atomic.LoadInt64(&count))
}
