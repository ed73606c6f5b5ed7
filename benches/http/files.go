// files.go: the Go counterpart of files.qi, for reference (benches/http/run.sh).
// Usage: files DIR N seq|conc — reads DIR/0.txt … DIR/(N-1).txt one by one (seq) or
// with one goroutine per file (conc), and prints: mode, files, bytes read, elapsed ms.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	dir, mode := os.Args[1], os.Args[3]
	n, _ := strconv.Atoi(os.Args[2])
	read := func(i int) int {
		b, err := os.ReadFile(dir + "/" + strconv.Itoa(i) + ".txt")
		if err != nil {
			panic(err)
		}
		return len(b)
	}
	total := 0
	start := time.Now()
	switch mode {
	case "seq":
		for i := 0; i < n; i++ {
			total += read(i)
		}
	case "conc":
		results := make([]chan int, n)
		for i := range results {
			results[i] = make(chan int, 1)
			go func(i int) { results[i] <- read(i) }(i)
		}
		for _, r := range results {
			total += <-r
		}
	default:
		panic("mode must be seq or conc")
	}
	fmt.Println(mode, n, total, float64(time.Since(start).Microseconds())/1000)
}
