package cli

import "testing"

// TestExitCodesAreListedOnce: the usage and the docs are made from this
// table; a code listed twice shows twice.
func TestExitCodesAreListedOnce(t *testing.T) {
	seen := map[int]bool{}
	for _, e := range ExitCodes() {
		if seen[e.Code] {
			t.Errorf("exit code %d listed twice", e.Code)
		}
		seen[e.Code] = true
	}
	if !seen[ExitInterrupted] {
		t.Errorf("exit code %d (interrupted) not listed", ExitInterrupted)
	}
}
