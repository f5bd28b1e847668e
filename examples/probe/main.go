// Command probe is a small API to try `corslab probe` on: its CORS policy
// (github.com/rs/cors) is deliberately vulnerable by default, trusting any
// origin that ends in example.com, with credentials; -policy safe (or
// CORSLAB_EXAMPLE_POLICY=safe) trusts exactly https://app.example.com.
//
//	go run ./examples/probe -addr 127.0.0.1:8080
//	corslab probe --as https://app.example.com --cookie 'sid=s3cr3t; SameSite=None; Secure' \
//	    --json out.json http://127.0.0.1:8080/api/me
//	corslab probe --as https://app.example.com --cookie 'sid=s3cr3t; SameSite=None; Secure' \
//	    --method POST http://127.0.0.1:8080/api/email
//
// It prints "listening on http://ADDR (POLICY policy)" once it accepts requests.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rs/cors"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	policy := flag.String("policy", envOr("CORSLAB_EXAMPLE_POLICY", "vulnerable"), "CORS policy: vulnerable or safe (default $CORSLAB_EXAMPLE_POLICY, then vulnerable)")
	flag.Parse()
	handler, err := api(*policy)
	if err != nil {
		log.Fatal(err)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s (%s policy)\n", l.Addr(), *policy)
	srv := &http.Server{Handler: handler}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// api is the application behind the chosen CORS policy.
func api(policy string) (http.Handler, error) {
	opts := cors.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost}, AllowCredentials: true}
	switch policy {
	case "vulnerable":
		// The mistake: a suffix check without the dot, so https://evilexample.com
		// (which anyone can register) passes, as do every subdomain and http://.
		opts.AllowOriginFunc = func(origin string) bool { return strings.HasSuffix(origin, "example.com") }
	case "safe":
		opts.AllowedOrigins = []string{"https://app.example.com"}
	default:
		return nil, fmt.Errorf("-policy %q: want vulnerable or safe", policy)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/me", me)
	mux.HandleFunc("POST /api/email", email)
	return cors.New(opts).Handler(mux), nil
}

// email changes the signed-in user's email address to the request body: a
// state change that a cross-site form-like POST (text/plain, no preflight)
// reaches even when CORS refuses the page the answer.
func email(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie("sid"); err != nil {
		http.Error(w, "not signed in", http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// me answers the signed-in user's profile, found by the sid cookie.
func me(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	c, err := r.Cookie("sid")
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "not signed in"})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"user": "alice", "email": "alice@example.com", "session": c.Value})
}
