package awsapi

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// describeRequest is a parsed DescribeInstances call.
type describeRequest struct {
	filters     []filter
	instanceIDs []string
	maxResults  int // 0: not given
	nextToken   string
	dryRun      bool
}

type filter struct {
	name   string
	values []string
}

// ec2Error is an answer in EC2's error shape.
type ec2Error struct {
	status        int
	code, message string
}

func (e *ec2Error) Error() string { return e.code + ": " + e.message }

func badParam(format string, args ...any) *ec2Error {
	return &ec2Error{400, "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

var (
	filterNameRE  = regexp.MustCompile(`^Filter\.([1-9][0-9]{0,3})\.Name$`)
	filterValueRE = regexp.MustCompile(`^Filter\.([1-9][0-9]{0,3})\.Value\.([1-9][0-9]{0,3})$`)
	instanceIDKey = regexp.MustCompile(`^InstanceId\.([1-9][0-9]{0,3})$`)
)

// parseDescribe reads DescribeInstances' parameters (Action and Version
// already checked). Every parameter must be known and given once.
func parseDescribe(form url.Values) (describeRequest, *ec2Error) {
	var req describeRequest
	names := map[int]string{}
	values := map[int]map[int]string{}
	ids := map[int]string{}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := form[k]
		if len(vs) != 1 {
			return req, badParam("The parameter %s is given %d times", k, len(vs))
		}
		v := vs[0]
		switch {
		case k == "Action" || k == "Version":
		case k == "MaxResults":
			n, err := strconv.Atoi(v)
			if err != nil || n < 5 || n > 1000 {
				return req, badParam("Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", v)
			}
			req.maxResults = n
		case k == "NextToken":
			req.nextToken = v
		case k == "DryRun":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return req, badParam("Value (%s) for parameter DryRun is invalid. Expecting true or false.", v)
			}
			req.dryRun = b
		case filterNameRE.MatchString(k):
			n, _ := strconv.Atoi(filterNameRE.FindStringSubmatch(k)[1])
			names[n] = v
		case filterValueRE.MatchString(k):
			m := filterValueRE.FindStringSubmatch(k)
			n, _ := strconv.Atoi(m[1])
			j, _ := strconv.Atoi(m[2])
			if values[n] == nil {
				values[n] = map[int]string{}
			}
			values[n][j] = v
		case instanceIDKey.MatchString(k):
			n, _ := strconv.Atoi(instanceIDKey.FindStringSubmatch(k)[1])
			ids[n] = v
		default:
			return req, &ec2Error{400, "UnknownParameter", fmt.Sprintf("The parameter %s is not recognized", k)}
		}
	}
	for _, n := range sortedKeys(names) {
		if len(values[n]) == 0 {
			return req, badParam("The filter '%s' requires at least one value (Filter.%d.Value.1)", names[n], n)
		}
		if !knownFilter(names[n]) {
			return req, badParam("The filter '%s' is invalid", names[n])
		}
		f := filter{name: names[n]}
		for _, j := range sortedKeys(values[n]) {
			f.values = append(f.values, values[n][j])
		}
		req.filters = append(req.filters, f)
	}
	for n := range values {
		if _, ok := names[n]; !ok {
			return req, badParam("Filter.%d has values but no Name", n)
		}
	}
	var bad []string
	for _, n := range sortedKeys(ids) {
		if !instanceIDRE.MatchString(ids[n]) {
			bad = append(bad, ids[n])
		}
		req.instanceIDs = append(req.instanceIDs, ids[n])
	}
	if len(bad) > 0 {
		return req, &ec2Error{400, "InvalidInstanceID.Malformed", fmt.Sprintf("Invalid id: %q", strings.Join(bad, ", "))}
	}
	if req.maxResults != 0 && len(req.instanceIDs) > 0 {
		return req, &ec2Error{400, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults"}
	}
	return req, nil
}

func sortedKeys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

var plainFilters = []string{"tag-key", "tag-value", "instance-state-name", "instance-state-code", "instance-id",
	"private-ip-address", "ip-address", "availability-zone", "image-id", "instance-type", "reservation-id", "ami-launch-index"}

func knownFilter(name string) bool {
	if strings.HasPrefix(name, "tag:") && len(name) > 4 {
		return true
	}
	for _, f := range plainFilters {
		if f == name {
			return true
		}
	}
	return false
}
