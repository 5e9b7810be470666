package clientaddr

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	tests := []struct {
		name       string
		remoteAddr string
		header     string   // ClientAddrHeader
		values     []string // its lines in the request
		want       string
		missing    bool
	}{
		{"the connection", "192.0.2.7:5123", "", nil, "192.0.2.7", false},
		{"a header, not configured", "192.0.2.7:5123", "", []string{"203.0.113.9"}, "192.0.2.7", false},
		{"X-Forwarded-For: the proxy's entry, not the client's", "10.0.0.2:80", "X-Forwarded-For", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9", false},
		{"X-Forwarded-For in two lines", "10.0.0.2:80", "X-Forwarded-For", []string{"198.51.100.1", "198.51.100.2,203.0.113.9"}, "203.0.113.9", false},
		{"X-Real-IP", "10.0.0.2:80", "X-Real-IP", []string{"203.0.113.9"}, "203.0.113.9", false},
		{"with a port", "10.0.0.2:80", "X-Real-IP", []string{"203.0.113.9:4431"}, "203.0.113.9", false},
		{"header missing", "10.0.0.2:80", "X-Forwarded-For", nil, "10.0.0.2", true},
		{"header unreadable", "10.0.0.2:80", "X-Forwarded-For", []string{"203.0.113.9, unknown"}, "10.0.0.2", true},
		{"IPv6 by its /64", "[2001:db8:1:2:3:4:5:6]:443", "", nil, "2001:db8:1:2::/64", false},
		{"IPv6 in a header", "10.0.0.2:80", "X-Forwarded-For", []string{"2001:db8:1:2:ffff::1"}, "2001:db8:1:2::/64", false},
		{"IPv4 in IPv6", "[::ffff:192.0.2.7]:5123", "", nil, "192.0.2.7", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			r.RemoteAddr = tt.remoteAddr
			for _, v := range tt.values {
				r.Header.Add(tt.header, v)
				if tt.header == "" {
					r.Header.Add("X-Forwarded-For", v)
				}
			}
			if got, missing := Of(r, tt.header); got != tt.want || missing != tt.missing {
				t.Errorf("Of = %q, missing %v; want %q, %v", got, missing, tt.want, tt.missing)
			}
		})
	}
}
