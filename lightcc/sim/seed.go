package sim

import "time"

// seedDemo creates the demo account's applications relative to now, so the
// console shows one of each interesting situation: the documentation's sample
// app running, an app stopped recently, a package about to expire and an app
// stopped long enough to be about to be removed.
func (s *Simulator) seedDemo(now time.Time) {
	mustImage := func(id int) imageSpec {
		im, _ := findImage(id)
		return im
	}
	mustGPU := func(model string) gpuSpec {
		g, _ := findGPU(model)
		return g
	}

	// The documentation's sample, byte for byte where the wire allows:
	// 0.06 at 1.98/h is just under two minutes of running.
	sd := s.newApp("1899720917190184960", mustImage(5), mustGPU("4090"), 1, payAsYouGo, 0, now.Add(-2*time.Minute))
	sd.containerID = "bbcbb3b2894040efb8c0de7356891d4d"
	sd.appLink = "https://ayqcxbnn94uoqrg6xc2y06g0rhx2ri5qiyx1jaw:online.lightcc.cloud"
	sd.status = stRunning
	sd.started = ptr(now.Add(-110 * time.Second))
	sd.consume = 0.06

	// Ran three hours at 1.38/h, stopped two hours ago.
	comfy := s.newApp("", mustImage(6), mustGPU("3090"), 1, payAsYouGo, 0, now.Add(-72*time.Hour))
	comfy.status = stStopped
	comfy.started = ptr(now.Add(-5 * time.Hour))
	comfy.stopped = ptr(now.Add(-2 * time.Hour))
	comfy.consume = 4.14

	// A one-day package bought 19 hours ago: about to expire in 5 hours.
	jupyter := s.newApp("", mustImage(9), mustGPU("3060"), 1, "1", 1, now.Add(-19*time.Hour))
	jupyter.status = stRunning
	jupyter.started = ptr(jupyter.created.Add(s.delays.Create))

	// Ran six hours on two cards, stopped nine days ago: about to be removed.
	fooocus := s.newApp("", mustImage(7), mustGPU("4090"), 2, payAsYouGo, 0, now.Add(-12*24*time.Hour))
	fooocus.status = stStopped
	fooocus.started = ptr(now.Add(-9*24*time.Hour - 6*time.Hour))
	fooocus.stopped = ptr(now.Add(-9 * 24 * time.Hour))
	fooocus.consume = 23.76
}
