package webhook

// Serving the page: its routes, its files embedded from static/, and index.html rendered with
// the exit URL and the page's own words in every language, under headers that keep a
// conversation out of caches and other sites.

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// staticTypes lists the files served under staticPrefix, with their types. index.html is not
// among them: it is served at "/" with the exit URL filled in.
var staticTypes = map[string]string{
	"chat.css": "text/css; charset=utf-8",
	"chat.js":  "text/javascript; charset=utf-8",
	"icon.svg": "image/svg+xml",
}

// PageText is what the web page says itself, not the dialogue, in one language.
type PageText struct {
	Lang    string // a language code, for the lang attribute
	Exit    string // the quick exit button's label
	NotSent string // shown when a message could not be sent: with 112 and the help numbers
	NeedsJS string // shown without JavaScript
	Message string // the text field's label
	Send    string // the send button's label
}

// englishPage is the page's own text when no locale files give it.
var englishPage = []PageText{{Lang: "en", Exit: "Quick exit", NotSent: "Not sent, try again. In danger: 112. Help: 1109, 197.",
	NeedsJS: "This chat needs JavaScript", Message: "Message", Send: "Send"}}

// renderPage puts the exit URL in a data attribute: the script reads it there, because the
// Content-Security-Policy allows no inline script. The page's own words come in every language
// at once: the page does not know the person's language before they choose it.
func renderPage(exitURL string, texts []PageText) ([]byte, error) {
	t, err := template.ParseFS(static, "static/index.html")
	if err != nil {
		return nil, fmt.Errorf("webhook: page: %w", err)
	}
	if len(texts) == 0 {
		texts = englishPage
	}
	var b bytes.Buffer
	if err := t.Execute(&b, struct {
		ExitURL string
		Langs   []PageText
	}{exitURL, texts}); err != nil {
		return nil, fmt.Errorf("webhook: page: %w", err)
	}
	return b.Bytes(), nil
}

// ServeHTTP answers the page, its files, its messages and its event streams.
func (c *Chat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Nothing of a conversation may stay in a cache, leak to another site or run from
	// elsewhere; the page loads only its own files and talks only to this server.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	name := chatRoute(r.URL.Path)
	c.serve(w, r, name, func(w http.ResponseWriter, r *http.Request) error { return c.route(w, r, name) })
}

// routeStatic is the name of the routes of the page's files.
const routeStatic = "/chat/static"

// chatRoute names the route of path, for routing and for the log.
func chatRoute(path string) string {
	switch {
	case path == "/" || path == messagesPath || path == eventsPath:
		return path
	case strings.HasPrefix(path, staticPrefix):
		return routeStatic
	}
	return routeUnknown
}

func (c *Chat) route(w http.ResponseWriter, r *http.Request, name string) error {
	switch name {
	case "/":
		return c.file(w, r, "text/html; charset=utf-8", c.page)
	case messagesPath:
		return c.message(w, r)
	case eventsPath:
		return c.events(w, r)
	case routeStatic:
		file := strings.TrimPrefix(r.URL.Path, staticPrefix)
		contentType, ok := staticTypes[file]
		if !ok {
			return errNotFound
		}
		b, err := static.ReadFile("static/" + file)
		if err != nil {
			return err
		}
		return c.file(w, r, contentType, b)
	}
	return errNotFound
}

func (c *Chat) file(w http.ResponseWriter, r *http.Request, contentType string, b []byte) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed("GET, HEAD")
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(b)
	return err
}
