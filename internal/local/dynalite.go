package local

import "io"

// dataDir maps Config.DataDir's "-" (in memory) to dynalite.Options'.
func dataDir(d string) string {
	if d == "-" {
		return ""
	}
	return d
}

// prefixWriter prefixes each write (the engine writes whole lines) with the
// engine's name.
type prefixWriter struct {
	prefix string
	out    io.Writer
}

func (w *prefixWriter) Write(b []byte) (int, error) {
	io.WriteString(w.out, w.prefix)
	return w.out.Write(b)
}
