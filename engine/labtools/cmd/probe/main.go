// Command probe is the real-node tests' workload (tests/realnodes):
//
//	probe serve [ADDRESS]   answers HTTP GET / with "hello from HOSTNAME" (default :8080)
//	probe lookup NAME       prints the addresses NAME resolves to (through the pod's resolv.conf: CoreDNS)
//	probe get URL           prints the response status and body of an HTTP GET
//	probe sleep             waits until terminated (a pod to exec into)
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: probe serve [ADDRESS] | lookup NAME | get URL | sleep")
	}
	switch os.Args[1] {
	case "serve":
		address := ":8080"
		if len(os.Args) > 2 {
			address = os.Args[2]
		}
		host, _ := os.Hostname()
		http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "hello from %s\n", host)
		})
		server := &http.Server{Addr: address, ReadHeaderTimeout: 10 * time.Second}
		go stopOnSignal(func() { _ = server.Shutdown(context.Background()) })
		if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			fail(err.Error())
		}
	case "lookup":
		need(3)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		addresses, err := net.DefaultResolver.LookupHost(ctx, os.Args[2])
		if err != nil {
			fail(err.Error())
		}
		for _, address := range addresses {
			fmt.Println(address)
		}
	case "get":
		need(3)
		client := &http.Client{Timeout: 10 * time.Second}
		response, err := client.Get(os.Args[2])
		if err != nil {
			fail(err.Error())
		}
		defer response.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(response.Body, 1<<20))
		fmt.Printf("%s\n%s", response.Status, body)
	case "sleep":
		stopOnSignal(func() {})
	default:
		fail("unknown command " + os.Args[1])
	}
}

func need(count int) {
	if len(os.Args) < count {
		fail("missing argument")
	}
}

func stopOnSignal(stop func()) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
	stop()
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "probe:", message)
	os.Exit(1)
}
