package factsfile_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/factsfile"
)

func fleetSample() *facts.Facts {
	s := sample()
	n := 3
	s.LaunchIndex, s.LifeCycle, s.TargetLifecycleState = &n, "spot", "InService"
	s.LaunchTime = time.Date(2026, 11, 27, 2, 58, 41, 0, time.UTC)
	s.Tags = map[string]string{"Name": "web-3", "aws:autoscaling:groupName": "web-asg", "team-a": "x", "Team_A": "y", "Note": `it's "$5"`}
	s.TagsAvailable = true
	return s
}

func TestRenderFleetGolden(t *testing.T) {
	goldenBoth(t, "facts-fleet", fleetSample())
}

// Two keys that make one variable: the one that sorts first keeps it, the
// other is named in a warning, the same way every time.
func TestTagVarsCollision(t *testing.T) {
	vars, warnings := factsfile.TagVars(fleetSample().Tags)
	want := []factsfile.TagVar{
		{Name: "TAG_NAME", Key: "Name", Value: "web-3"},
		{Name: "TAG_NOTE", Key: "Note", Value: `it's "$5"`},
		{Name: "TAG_TEAM_A", Key: "Team_A", Value: "y"},
		{Name: "TAG_AWS_AUTOSCALING_GROUPNAME", Key: "aws:autoscaling:groupName", Value: "web-asg"},
	}
	if diff := cmp.Diff(want, vars); diff != "" {
		t.Errorf("vars (-want +got):\n%s", diff)
	}
	wantW := []string{`tag "team-a" would be EC2BOOT_TAG_TEAM_A like tag "Team_A": left out of facts.env (facts.json has it)`}
	if diff := cmp.Diff(wantW, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// The tags read back in sh exactly as they are.
func TestTagVarsReadBackInShell(t *testing.T) {
	env, err := factsfile.RenderEnv(fleetSample())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", string(env)+"\nprintf '%s|%s|%s' \"$EC2BOOT_TAG_NOTE\" \"$EC2BOOT_TAG_AWS_AUTOSCALING_GROUPNAME\" \"$EC2BOOT_AMI_LAUNCH_INDEX\"").Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	if got, want := string(out), `it's "$5"|web-asg|3`; got != want {
		t.Errorf("sh read %q, want %q", got, want)
	}
	if strings.Contains(string(env), "team-a") {
		t.Errorf("the colliding tag made it into facts.env")
	}
}
