package bench

import (
	"fmt"
	"slices"
)

// Samples are the measurements of one variant across rounds.
type Samples []float64

// Median returns the middle sample (the upper one of an even count).
func (s Samples) Median() float64 { c := s.sorted(); return c[len(c)/2] }

// Min returns the smallest sample.
func (s Samples) Min() float64 { return s.sorted()[0] }

// Max returns the largest sample.
func (s Samples) Max() float64 { c := s.sorted(); return c[len(c)-1] }

func (s Samples) sorted() Samples {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// Range formats the median with the min–max range.
func (s Samples) Range(format string) string {
	return fmt.Sprintf(format+" ("+format+"–"+format+")", s.Median(), s.Min(), s.Max())
}
