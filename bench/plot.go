package bench

import (
	"image/color"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// PlotTimeline draws, for each library, the slowest metadata call in every
// 5 ms window of a stall run: how a refresh looks to callers over time.
func PlotTimeline(path string, names []string, runs map[string]StallResult) error {
	p := plot.New()
	p.Title.Text = "Getting per-RPC metadata across token refreshes (64 callers, 50 ms token endpoint)"
	p.X.Label.Text = "time since start (ms)"
	p.Y.Label.Text = "slowest call in each 5 ms window (µs, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	colors := []color.RGBA{{0x99, 0x99, 0x99, 255}, {0x1b, 0x9e, 0x77, 255}, {0x75, 0x70, 0xb3, 255}, {0xd9, 0x5f, 0x02, 255}}
	for i, n := range names {
		line, err := plotter.NewLine(windows(runs[n].Points, 5*time.Millisecond))
		if err != nil {
			return err
		}
		line.Color = colors[i%len(colors)]
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(n, line)
	}
	return p.Save(11*vg.Inch, 5*vg.Inch, path)
}

// windows returns the maximum latency (µs, at least 0.1) per window.
func windows(points []Point, w time.Duration) plotter.XYs {
	worst := map[int]time.Duration{}
	for _, pt := range points {
		k := int(pt.At / w)
		worst[k] = max(worst[k], pt.Took)
	}
	keys := make([]int, 0, len(worst))
	for k := range worst {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	xys := make(plotter.XYs, len(keys))
	for i, k := range keys {
		xys[i].X = float64(time.Duration(k)*w) / float64(time.Millisecond)
		xys[i].Y = max(float64(worst[k])/float64(time.Microsecond), 0.1)
	}
	return xys
}
