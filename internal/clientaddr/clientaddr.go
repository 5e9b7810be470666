// Package clientaddr tells which client a request came from, for the limits that count by
// client: the web chat's and the desk's sign-in.
package clientaddr

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Of is the address a request came from: the connection's address or, with header set (Faros
// behind its own proxy), the last address in that header, the one the proxy added (a client
// can forge the ones before it). When the header is missing or unreadable the connection's
// address counts, and missing says so: a proxy that does not set the header makes every
// client one. An IPv6 address counts by its /64, which one household, office or phone network
// customer usually holds whole.
func Of(r *http.Request, header string) (addr string, missing bool) {
	if header != "" {
		if values := r.Header.Values(header); len(values) > 0 {
			last := values[len(values)-1]
			last = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
			if a, ok := parse(last); ok {
				return source(a), false
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, ok := parse(host); ok {
		return source(a), header != ""
	}
	return host, header != ""
}

// parse reads an address with or without a port.
func parse(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}

func source(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
