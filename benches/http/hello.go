// Hello-world HTTP/1.1 server (net/http, keep-alive) for benches/http/run.sh.
// Usage: go build -o hello-go hello.go && ./hello-go [port]   (or PORT=…; default 8080)
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	port := "8080"
	if len(os.Args) > 1 {
		port = os.Args[1]
	} else if p := os.Getenv("PORT"); p != "" {
		port = p
	}
	body := []byte("你好，世界")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(body)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, nil))
}
