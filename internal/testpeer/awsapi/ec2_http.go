package awsapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// serveEC2 answers the Query protocol: a form POST (what the SDK sends)
// or a signed GET with the parameters in the query string.
func (s *Server) serveEC2(w http.ResponseWriter, r *http.Request, body []byte) {
	var form url.Values
	var err error
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		form, err = url.ParseQuery(string(body))
	case r.Method == http.MethodGet && len(body) == 0:
		form, err = url.ParseQuery(r.URL.RawQuery)
	default:
		s.count(EC2, "Unknown")
		ec2Fail(w, &ec2Error{400, "InvalidAction", fmt.Sprintf("%s %s is not a Query API request (form POST or GET on /)", r.Method, r.URL.Path)})
		return
	}
	action := form.Get("Action")
	if err != nil || r.URL.Path != "/" || action == "" {
		s.count(EC2, "Unknown")
		ec2Fail(w, &ec2Error{400, "MissingAction", "The request must contain the parameter Action on the path /"})
		return
	}
	s.count(EC2, action)
	s.mu.Lock()
	keys := maps.Clone(s.keys)
	s.mu.Unlock()
	if ae := verify(r, body, keys, EC2, s.opt.EC2Region, s.clock.Now()); ae != nil {
		e := &ec2Error{403, "SignatureDoesNotMatch", ae.message}
		switch ae.kind {
		case authUnknownKey:
			e = &ec2Error{401, "AuthFailure", "AWS was not able to validate the provided access credentials"}
		case authExpired:
			e = &ec2Error{400, "RequestExpired", "Request has expired. " + ae.message}
		case authMissing:
			e = &ec2Error{401, "MissingAuthenticationToken", ae.message}
		}
		ec2Fail(w, e)
		return
	}
	if action != "DescribeInstances" {
		ec2Fail(w, &ec2Error{400, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", action)})
		return
	}
	if v := form.Get("Version"); v != "2016-11-15" {
		ec2Fail(w, &ec2Error{400, "NoSuchVersion", fmt.Sprintf("The requested version (%s) of service AmazonEC2 does not exist", v)})
		return
	}
	kind, hit, delay := s.fault(EC2, action)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if hit {
		s.ec2Fault(w, kind, action, r)
		return
	}
	req, perr := parseDescribe(form)
	if perr != nil {
		ec2Fail(w, perr)
		return
	}
	if req.dryRun {
		ec2Fail(w, &ec2Error{412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."})
		return
	}
	out, derr := s.describe(req)
	if derr != nil {
		ec2Fail(w, derr)
		return
	}
	writeXML(w, http.StatusOK, out)
}

func (s *Server) ec2Fault(w http.ResponseWriter, kind FaultKind, action string, r *http.Request) {
	switch kind {
	case Throttle, PriorRequest:
		ec2Fail(w, &ec2Error{503, "RequestLimitExceeded", "Request limit exceeded."})
	case Deny:
		detail := fmt.Sprintf(`{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[]},"context":{"principal":{"arn":%q},"action":"ec2:%s","resource":"*"}}`, s.caller(r), action)
		ec2Fail(w, &ec2Error{403, "UnauthorizedOperation", "You are not authorized to perform this operation. Encoded authorization failure message: " + base64.RawURLEncoding.EncodeToString([]byte(detail))})
	case ServerError:
		ec2Fail(w, &ec2Error{500, "InternalError", "An internal error has occurred"})
	case Malformed:
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><reservationSet><item>`))
	}
}

func ec2Fail(w http.ResponseWriter, e *ec2Error) {
	var x xmlEC2Error
	x.Errors = append(x.Errors, struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}{e.code, e.message})
	x.RequestID = newRequestID()
	writeXML(w, e.status, x)
}

// describe filters the inventory and cuts the page NextToken asks for.
func (s *Server) describe(req describeRequest) (xmlDescribeResponse, *ec2Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing []string
	for _, id := range req.instanceIDs {
		found := false
		for _, in := range s.instances {
			found = found || in.ID == id
		}
		if !found {
			missing = append(missing, id)
		}
	}
	if len(missing) == 1 {
		return xmlDescribeResponse{}, &ec2Error{400, "InvalidInstanceID.NotFound", fmt.Sprintf("The instance ID '%s' does not exist", missing[0])}
	} else if len(missing) > 1 {
		return xmlDescribeResponse{}, &ec2Error{400, "InvalidInstanceID.NotFound", fmt.Sprintf("The instance IDs '%s' do not exist", strings.Join(missing, ", "))}
	}
	var match []Instance
	for _, in := range s.instances {
		if matches(in, req) {
			match = append(match, in)
		}
	}
	fp := fingerprint(req)
	off := 0
	if req.nextToken != "" {
		var ok bool
		if off, ok = readToken(req.nextToken, fp); !ok || off > len(match) {
			return xmlDescribeResponse{}, &ec2Error{400, "InvalidNextToken", fmt.Sprintf("The token '%s' is invalid for this request", req.nextToken)}
		}
	}
	end := len(match)
	if req.maxResults > 0 {
		end = min(off+req.maxResults, len(match))
	}
	out := xmlDescribeResponse{RequestID: newRequestID()}
	if end < len(match) {
		out.NextToken = makeToken(end, fp)
	}
	for _, in := range match[off:end] {
		if n := len(out.Reservations); n == 0 || out.Reservations[n-1].ReservationID != in.ReservationID {
			out.Reservations = append(out.Reservations, xmlReservation{ReservationID: in.ReservationID, OwnerID: s.opt.Account})
		}
		r := &out.Reservations[len(out.Reservations)-1]
		r.Instances = append(r.Instances, s.xmlInstance(in))
	}
	return out, nil
}

func (s *Server) xmlInstance(in Instance) xmlInstance {
	x := xmlInstance{InstanceID: in.ID, ImageID: in.ImageID, AMILaunchIndex: in.AMILaunchIndex, InstanceType: in.InstanceType,
		LaunchTime: in.LaunchTime.UTC().Format("2006-01-02T15:04:05.000Z"), PrivateIPAddress: in.PrivateIP.String(),
		PrivateDNSName: in.privateDNS(s.opt.EC2Region)}
	x.State.Code, x.State.Name = stateCodes[in.State], in.State
	x.Placement.AvailabilityZone, x.Placement.Tenancy = in.AvailabilityZone, "default"
	if in.PublicIP.IsValid() {
		x.IPAddress = in.PublicIP.String()
	}
	for _, t := range in.Tags {
		x.Tags = append(x.Tags, xmlTag(t))
	}
	eni := xmlENI{ID: "eni-" + strings.TrimPrefix(in.ID, "i-"), PrivateIPAddress: in.PrivateIP.String()}
	for _, a := range in.IPv6 {
		eni.IPv6 = append(eni.IPv6, struct {
			Address string `xml:"ipv6Address"`
		}{a.String()})
	}
	if len(in.IPv6) > 0 {
		x.IPv6Address = in.IPv6[0].String()
	}
	x.NetworkInterfaces = []xmlENI{eni}
	return x
}

// matches applies the filters: values of one filter OR together (with
// EC2's * and ? wildcards), filters AND.
func matches(in Instance, req describeRequest) bool {
	if len(req.instanceIDs) > 0 && !contains(req.instanceIDs, in.ID) {
		return false
	}
	for _, f := range req.filters {
		var have []string
		switch {
		case strings.HasPrefix(f.name, "tag:"):
			for _, t := range in.Tags {
				if t.Key == f.name[4:] {
					have = append(have, t.Value)
				}
			}
		case f.name == "tag-key":
			for _, t := range in.Tags {
				have = append(have, t.Key)
			}
		case f.name == "tag-value":
			for _, t := range in.Tags {
				have = append(have, t.Value)
			}
		case f.name == "instance-state-name":
			have = []string{in.State}
		case f.name == "instance-state-code":
			have = []string{strconv.Itoa(stateCodes[in.State])}
		case f.name == "instance-id":
			have = []string{in.ID}
		case f.name == "private-ip-address":
			have = []string{in.PrivateIP.String()}
		case f.name == "ip-address":
			if in.PublicIP.IsValid() {
				have = []string{in.PublicIP.String()}
			}
		case f.name == "availability-zone":
			have = []string{in.AvailabilityZone}
		case f.name == "image-id":
			have = []string{in.ImageID}
		case f.name == "instance-type":
			have = []string{in.InstanceType}
		case f.name == "reservation-id":
			have = []string{in.ReservationID}
		case f.name == "ami-launch-index":
			have = []string{strconv.Itoa(in.AMILaunchIndex)}
		}
		if !anyMatch(f.values, have) {
			return false
		}
	}
	return true
}

func anyMatch(patterns, have []string) bool {
	for _, p := range patterns {
		for _, h := range have {
			// path.Match's * stops at '/', which tag values may hold:
			// compare the literal first, then as a pattern.
			if p == h {
				return true
			}
			if ok, err := path.Match(p, h); err == nil && ok {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A NextToken is only good for the request it came from: it carries the
// offset and a fingerprint of the filters and instance IDs.
func fingerprint(req describeRequest) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q", req.instanceIDs)
	for _, f := range req.filters {
		fmt.Fprintf(h, "|%q=%q", f.name, f.values)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func makeToken(off int, fp string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(off) + ":" + fp))
}

func readToken(tok, fp string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	o, f, ok := strings.Cut(string(b), ":")
	n, err := strconv.Atoi(o)
	return n, ok && err == nil && n >= 0 && f == fp
}
