package firefox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"

	"github.com/coder/websocket"
)

// readLimit bounds one WebDriver BiDi message; a page view or a cookie list
// can exceed coder/websocket's 32 KiB default.
const readLimit = 64 << 20

// commandError is a WebDriver BiDi error response.
type commandError struct {
	method  string // the command, e.g. "browsingContext.navigate"
	code    string // the BiDi error code, e.g. "no such frame"
	message string
}

func (e *commandError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.method, e.code, e.message)
}

// errConnClosed is wrapped by the errors of commands whose connection closed under them.
var errConnClosed = errors.New("the WebDriver BiDi connection closed")

// conn is one WebDriver BiDi WebSocket: commands with ids, replies matched by
// id, events handed to the handler in arrival order from the one reader.
type conn struct {
	ws     *websocket.Conn
	cancel context.CancelFunc // stops the reader
	done   chan struct{}      // closed when the reader has ended
	err    error              // why the reader ended; set before done closes

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan message
	handler func(method string, params json.RawMessage)
}

type message struct {
	Type    string          `json:"type"`
	ID      *int64          `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

// dial connects to a BiDi endpoint (ws://host:port/session).
func dial(ctx context.Context, url string) (*conn, error) {
	// No proxy: the endpoint is on loopback.
	client := &http.Client{Transport: &http.Transport{DialContext: dialQuickAck, Proxy: nil}}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(readLimit)
	rctx, cancel := context.WithCancel(context.Background())
	c := &conn{ws: ws, cancel: cancel, done: make(chan struct{}), pending: map[int64]chan message{}}
	go c.read(rctx)
	return c, nil
}

// read is the connection's one reader; it ends when the socket fails or close is called.
func (c *conn) read(ctx context.Context) {
	var err error
	defer func() {
		c.mu.Lock()
		c.err = fmt.Errorf("%w: %w", errConnClosed, err)
		c.mu.Unlock()
		close(c.done)
	}()
	for {
		var data []byte
		_, data, err = c.ws.Read(ctx)
		if err != nil {
			return
		}
		var m message
		if json.Unmarshal(data, &m) != nil {
			continue // not a BiDi message; nothing waits for it
		}
		if m.Type == "event" {
			c.mu.Lock()
			h := c.handler
			c.mu.Unlock()
			if h != nil {
				h(m.Method, m.Params)
			}
			continue
		}
		if m.ID == nil {
			continue
		}
		c.mu.Lock()
		ch := c.pending[*m.ID]
		delete(c.pending, *m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m // buffered: never blocks the reader
		}
	}
}

// on sets the handler of every event, called from the reader: it must return
// fast and must not call the connection.
func (c *conn) on(h func(method string, params json.RawMessage)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handler = h
}

// call sends one command and decodes its result into result (unless nil).
func (c *conn) call(ctx context.Context, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan message, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	data, err := json.Marshal(struct {
		ID     int64  `json:"id"`
		Method string `json:"method"`
		Params any    `json:"params"`
	}{id, method, params})
	if err != nil {
		return fmt.Errorf("%s: encode params: %w", method, err)
	}
	select {
	case <-c.done:
		return fmt.Errorf("%s: %w", method, c.closedErr())
	default:
	}
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		select {
		case <-c.done:
			return fmt.Errorf("%s: %w", method, c.closedErr())
		default:
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", method, context.Cause(ctx))
		}
		return fmt.Errorf("%s: send: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Type == "error" {
			return &commandError{method: method, code: m.Error, message: m.Message}
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("%s: decode result: %w", method, err)
			}
		}
		return nil
	case <-c.done:
		return fmt.Errorf("%s: %w", method, c.closedErr())
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, context.Cause(ctx))
	}
}

func (c *conn) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// close closes the socket and waits for the reader to end.
func (c *conn) close() {
	_ = c.ws.CloseNow()
	c.cancel()
	<-c.done
}

// dialQuickAck dials TCP and returns a connection that re-arms TCP_QUICKACK
// around every read. Firefox writes a burst of small BiDi event frames with
// Nagle's algorithm on: each frame after the first waits for our ACK, which
// Linux delays by up to 40 ms, so every request's events would trail it by
// that much. Acknowledging at once lets them arrive as Firefox writes them.
func dialQuickAck(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c, nil
	}
	return &quickAckConn{TCPConn: tc, raw: raw}, nil
}

type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func (c *quickAckConn) quickAck() {
	_ = c.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}

func (c *quickAckConn) Read(p []byte) (int, error) {
	// Linux clears TCP_QUICKACK on its own, so it is set before and after each read.
	c.quickAck()
	n, err := c.TCPConn.Read(p)
	c.quickAck()
	return n, err
}
