package tokensource

import "time"

// Overlapping fetches, for tokens that barely outlive a fetch: see the rule
// in schedule.go (fetchTimes).

// arm starts the timer of the next overlapping fetch, if the token in hand
// calls for one and none is armed. r.mu must be held.
func (r *Refresher) arm() {
	if in, ok := r.overlap(); ok && r.timer == nil {
		r.wg.Add(1)
		r.timer = r.cfg.after(in, r.tick)
	}
}

// overlap returns how long after a fetch starts the next one is to start,
// if fetches overlap: the token in hand barely outlives a fetch, and no
// failure is in backoff. r.mu must be held.
func (r *Refresher) overlap() (time.Duration, bool) {
	s := r.snap.Load()
	if r.closed || r.attempt > 0 || s == nil || s.tok == nil || !s.renewsAt.IsZero() {
		return 0, false
	}
	return r.times.overlap(s.life)
}

// disarm stops the timer, if armed. r.mu must be held.
func (r *Refresher) disarm() {
	if r.timer != nil && r.timer.Stop() {
		r.wg.Done()
	}
	r.timer = nil
}

// tick starts the next overlapping fetch if the token was asked for since the
// engine last started one and fewer than two fetches are in flight. With two
// in flight, the first to end starts it (resume); with the token not asked
// for, the overlap stops until a caller asks for it again.
func (r *Refresher) tick() {
	defer r.wg.Done()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timer = nil
	if len(r.calls) < 2 {
		r.next()
	}
}

// resume starts the next overlapping fetch, when a fetch ends, if no timer
// will: the token is due for refresh at once, and a caller would start the
// fetch only later, if at all while another is in flight. r.mu must be held.
func (r *Refresher) resume() {
	if r.timer == nil && len(r.calls) < 2 {
		r.next()
	}
}

// next starts an overlapping fetch if fetches overlap and the token was asked
// for since the engine last started one on its own. r.mu must be held.
func (r *Refresher) next() {
	if _, ok := r.overlap(); ok && r.used.Load() {
		r.used.Store(false)
		r.start()
	}
}
