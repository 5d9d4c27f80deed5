package node

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// serve listens on addr and serves JSON-RPC: over HTTP and WebSocket on the
// same port (anvil's layout, so one URL serves every client) when both is
// true, or WebSocket only. It returns the bound host:port.
func (n *Node) serve(addr string, both bool) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	ws := n.rpc.WebsocketHandler([]string{"*"})
	var handler http.Handler
	if both {
		plain := n.fastPath(n.rpc)
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isWebsocket(r) {
				ws.ServeHTTP(w, r)
				return
			}
			plain.ServeHTTP(w, r)
		})
	} else {
		handler = ws
	}
	srv := &http.Server{
		Handler:           withCORS(handler),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	n.servers = append(n.servers, srv)
	n.listeners = append(n.listeners, ln)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("rpc server stopped", "addr", ln.Addr(), "err", err)
		}
	}()
	return ln.Addr().String(), nil
}

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

// withCORS lets dApp front ends in a browser call the devnet from any
// origin, as anvil and Hardhat allow.
func withCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
			w.Header().Set("Access-Control-Max-Age", "600")
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
