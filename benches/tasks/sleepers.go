// sleepers: 10000 goroutines each sleeping 10 ms at once, all awaited; the second line is
// the wall time of the sleeping part in milliseconds
package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	const n = 10000
	var woke int64
	var wg sync.WaitGroup
	wg.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			time.Sleep(10 * time.Millisecond)
			atomic.AddInt64(&woke, 1)
			wg.Done()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Println(atomic.LoadInt64(&woke))
	fmt.Println("sleep_ms", elapsed.Milliseconds())
}
