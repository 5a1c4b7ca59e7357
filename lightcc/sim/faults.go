package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Fault is a misbehaviour injected into one endpoint. Faults are applied after
// the call is counted and the key is checked, so unauthorised requests are
// never faulted. When several failure kinds are set, HTTPStatus wins over
// Malformed, which wins over Code.
type Fault struct {
	Latency    time.Duration // sleep before answering, giving up early if the request's context ends
	HTTPStatus int           // non-zero: answer this HTTP status with a short text/html gateway page
	Code       int           // non-zero: HTTP 200 with the envelope {"code":Code,"msg":Msg}
	Msg        string        // msg for Code; "" means "系统内部错误"
	Malformed  bool          // HTTP 200, JSON content type, a truncated JSON body
	AfterApply bool          // apply the request's state change first, then fail (a lost response)
	Times      int           // how many requests it affects; 0 means until cleared
}

// fails reports whether the fault replaces the answer (rather than only
// delaying it).
func (f Fault) fails() bool {
	return f.HTTPStatus != 0 || f.Malformed || f.Code != 0
}

// write sends the fault's failure.
func (f Fault) write(w http.ResponseWriter) {
	switch {
	case f.HTTPStatus != 0:
		text := http.StatusText(f.HTTPStatus)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.HTTPStatus)
		// What nginx in front of the backend answers when the backend is down.
		fmt.Fprintf(w, "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
			f.HTTPStatus, text, f.HTTPStatus, text)
	case f.Malformed:
		w.Header().Set("Content-Type", jsonContentType)
		w.WriteHeader(http.StatusOK)
		// A body cut off mid-string, as when a proxy drops the connection.
		w.Write([]byte(`{"msg":"操作成功","code":200,"data":[{"aId":"18997209171`))
	default:
		msg := f.Msg
		if msg == "" {
			msg = "系统内部错误"
		}
		body, _ := json.Marshal(struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		}{f.Code, msg})
		w.Header().Set("Content-Type", jsonContentType)
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	}
}

// SetFault makes ep misbehave as f describes, replacing any earlier fault on
// ep.
func (s *Simulator) SetFault(ep Endpoint, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[ep] = &f
}

// ClearFaults removes every injected fault.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// takeFault returns the fault on ep, if any, and uses up one of its Times.
func (s *Simulator) takeFault(ep Endpoint) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, found := s.faults[ep]
	if !found {
		return Fault{}, false
	}
	taken := *f
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			delete(s.faults, ep)
		}
	}
	return taken, true
}

// Calls returns how many requests ep has received, whether they were answered,
// faulted or refused for a bad key.
func (s *Simulator) Calls(ep Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[ep]
}

// TotalCalls returns how many requests all endpoints together have received.
func (s *Simulator) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// ResetCalls sets every call count back to zero.
func (s *Simulator) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
}
