package lightcc

import (
	"context"
	"sync/atomic"
	"time"
)

// Switch is a client that can be replaced while requests are being
// served: an administrator sets a new API key and every call after it uses
// the new client, with no restart.
type Switch struct {
	p atomic.Pointer[Client]
}

// NewSwitch returns a Switch serving c.
func NewSwitch(c *Client) *Switch {
	s := &Switch{}
	s.p.Store(c)
	return s
}

// Set replaces the client.
func (s *Switch) Set(c *Client) { s.p.Store(c) }

// Current is the client in use.
func (s *Switch) Current() *Client { return s.p.Load() }

// ListApplications calls the current client.
func (s *Switch) ListApplications(ctx context.Context, st RunningState) ([]Application, error) {
	return s.Current().ListApplications(ctx, st)
}

// ApplicationDetails calls the current client.
func (s *Switch) ApplicationDetails(ctx context.Context, aID string) (*ApplicationDetails, error) {
	return s.Current().ApplicationDetails(ctx, aID)
}

// CreateApplication calls the current client.
func (s *Switch) CreateApplication(ctx context.Context, req CreateRequest) (string, error) {
	return s.Current().CreateApplication(ctx, req)
}

// RestartApplication calls the current client.
func (s *Switch) RestartApplication(ctx context.Context, aID string) error {
	return s.Current().RestartApplication(ctx, aID)
}

// StopApplication calls the current client.
func (s *Switch) StopApplication(ctx context.Context, aID string) error {
	return s.Current().StopApplication(ctx, aID)
}

// TimedStopApplication calls the current client.
func (s *Switch) TimedStopApplication(ctx context.Context, aID string, at time.Time) error {
	return s.Current().TimedStopApplication(ctx, aID, at)
}

// DestroyApplication calls the current client.
func (s *Switch) DestroyApplication(ctx context.Context, aID string) error {
	return s.Current().DestroyApplication(ctx, aID)
}

// ApplicationLink calls the current client.
func (s *Switch) ApplicationLink(ctx context.Context, t LinkType, aID string) (Link, error) {
	return s.Current().ApplicationLink(ctx, t, aID)
}

// ListImages calls the current client.
func (s *Switch) ListImages(ctx context.Context, title string) ([]Image, error) {
	return s.Current().ListImages(ctx, title)
}

// ImageInfo calls the current client.
func (s *Switch) ImageInfo(ctx context.Context, imageID int64) (*ImageDetails, error) {
	return s.Current().ImageInfo(ctx, imageID)
}

// AvailableGPUConfig calls the current client.
func (s *Switch) AvailableGPUConfig(ctx context.Context, imageID int64) ([]GPUConfig, error) {
	return s.Current().AvailableGPUConfig(ctx, imageID)
}

// GPUPrice calls the current client.
func (s *Switch) GPUPrice(ctx context.Context, q PriceQuery) (PriceQuote, error) {
	return s.Current().GPUPrice(ctx, q)
}

// Balance calls the current client.
func (s *Switch) Balance(ctx context.Context) (Balance, error) { return s.Current().Balance(ctx) }
