package relocate

// Test helpers for the external tests (package relocate_test), which drive
// the step through bootstrap/run as the binary does.
var (
	TmpfsScenario = tmpfsScenario
)
