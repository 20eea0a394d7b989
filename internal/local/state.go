package local

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func (s *Stack) writeState() error {
	if s.cfg.StateFile == "-" {
		return nil
	}
	data, err := json.MarshalIndent(s.Endpoints(), "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.cfg.StateFile), 0o755); err != nil {
		return fmt.Errorf("write stack state: %w", err)
	}
	if err := os.WriteFile(s.cfg.StateFile, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write stack state: %w", err)
	}
	return nil
}

// ReadState reads the Endpoints a running stack wrote.
func ReadState(path string) (Endpoints, error) {
	var e Endpoints
	data, err := os.ReadFile(path)
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return e, fmt.Errorf("stack state %s: %w", path, err)
	}
	return e, nil
}
