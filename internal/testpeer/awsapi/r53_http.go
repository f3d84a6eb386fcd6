package awsapi

import (
	"context"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// serveRoute53 answers the Route 53 operations the peer models.
func (s *Server) serveRoute53(w http.ResponseWriter, r *http.Request, body []byte) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/2013-04-01/"), "/")
	parts := strings.Split(path, "/")
	var action, id string
	switch {
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset":
		action, id = "ChangeResourceRecordSets", parts[1]
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset":
		action, id = "ListResourceRecordSets", parts[1]
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "hostedzone":
		action, id = "GetHostedZone", parts[1]
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "hostedzonesbyname":
		action = "ListHostedZonesByName"
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "change":
		action, id = "GetChange", parts[1]
	default:
		s.count(Route53, "Unknown")
		r53Error(w, http.StatusNotFound, "Sender", "UnknownOperationException", fmt.Sprintf("%s %s is not an operation this peer serves", r.Method, r.URL.Path))
		return
	}
	s.count(Route53, action)
	s.mu.Lock()
	keys := maps.Clone(s.keys)
	s.mu.Unlock()
	if ae := verify(r, body, keys, Route53, s.opt.Route53Region, s.clock.Now()); ae != nil {
		code, status := "SignatureDoesNotMatch", http.StatusForbidden
		switch ae.kind {
		case authUnknownKey:
			code = "InvalidClientTokenId"
		case authMissing:
			code = "MissingAuthenticationToken"
		}
		r53Error(w, status, "Sender", code, ae.message)
		return
	}
	kind, hit, delay := s.fault(Route53, action)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if hit {
		s.r53Fault(w, kind, action, id, r)
		return
	}
	switch action {
	case "ChangeResourceRecordSets":
		s.changeRecords(w, r.Context(), id, body)
	case "ListResourceRecordSets":
		s.listRecords(w, id, r)
	case "GetHostedZone":
		s.getZone(w, id)
	case "ListHostedZonesByName":
		s.listZones(w, r)
	case "GetChange":
		s.getChange(w, id)
	}
}

func (s *Server) r53Fault(w http.ResponseWriter, kind FaultKind, action, id string, r *http.Request) {
	switch kind {
	case Throttle:
		r53Error(w, http.StatusBadRequest, "Sender", "Throttling", "Rate exceeded")
	case Deny:
		res := "*"
		switch action {
		case "ChangeResourceRecordSets", "ListResourceRecordSets", "GetHostedZone":
			res = "arn:aws:route53:::hostedzone/" + id
		case "GetChange":
			res = "arn:aws:route53:::change/" + id
		}
		r53Error(w, http.StatusForbidden, "Sender", "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: route53:%s on resource: %s because no identity-based policy allows the route53:%s action", s.caller(r), action, res, action))
	case ServerError:
		r53Error(w, http.StatusInternalServerError, "Receiver", "InternalFailure", "We encountered an internal error. Please try again.")
	case PriorRequest:
		r53Error(w, http.StatusBadRequest, "Sender", "PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.")
	case Malformed:
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<?xml version="1.0"?><` + action + `Response xmlns="` + r53NS + `"><ChangeInfo><Id>`))
	}
}

// caller is the ARN an AccessDenied message names.
func (s *Server) caller(r *http.Request) string {
	p, _ := parseAuthorization(r.Header.Get("Authorization"))
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/ec2boot-test/%s", s.opt.Account, p.accessKey)
}

func (s *Server) count(service, action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[service+":"+action]++
}

func r53Error(w http.ResponseWriter, status int, typ, code, msg string) {
	var e xmlR53Error
	e.Error.Type, e.Error.Code, e.Error.Message = typ, code, msg
	e.RequestID = newRequestID()
	writeXML(w, status, e)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body := append([]byte(xml.Header), out...)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("X-Amzn-Requestid", newRequestID())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func newRequestID() string {
	id := strings.ToLower(newID("", 16))
	return id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}

// zoneByID takes the bare ID, or the /hostedzone/ form a client forgot to
// strip.
func (s *Server) zoneByID(w http.ResponseWriter, id string) *zone {
	z := s.zones[strings.TrimPrefix(id, "hostedzone/")]
	if z == nil {
		r53Error(w, http.StatusNotFound, "Sender", "NoSuchHostedZone", "No hosted zone found with ID: "+id)
	}
	return z
}

func (s *Server) changeRecords(w http.ResponseWriter, ctx context.Context, id string, body []byte) {
	var req xmlChangeRequest
	if err := xml.Unmarshal(body, &req); err != nil {
		r53Error(w, http.StatusBadRequest, "Sender", "InvalidInput", "Invalid XML ; "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zoneByID(w, id)
	if z == nil {
		return
	}
	changes, berr := checkBatch(z, &req)
	var sets []RecordSet
	if berr == nil {
		var msgs []string
		if sets, msgs = applyChanges(z, changes); msgs != nil {
			berr = &batchError{messages: msgs}
		}
	}
	if berr != nil {
		if berr.input != "" {
			r53Error(w, http.StatusBadRequest, "Sender", "InvalidInput", berr.input)
		} else if s.opt.ChangeBatchErrors == InErrorResponse {
			r53Error(w, http.StatusBadRequest, "Sender", "InvalidChangeBatch", "["+strings.Join(berr.messages, ", ")+"]")
		} else {
			writeXML(w, http.StatusBadRequest, xmlInvalidChangeBatch{Messages: berr.messages, RequestID: newRequestID()})
		}
		return
	}
	if err := s.feed(ctx, changes, sets); err != nil {
		r53Error(w, http.StatusInternalServerError, "Receiver", "InternalFailure", "the DNS backend refused the change: "+err.Error())
		return
	}
	z.sets = sets
	c := &change{id: newID("C", 12), submitted: s.clock.Now(), comment: req.ChangeBatch.Comment}
	s.changes[c.id] = c
	writeXML(w, http.StatusOK, xmlChangeResponse{ChangeInfo: s.changeInfo(c)})
}

// feed hands every touched name's A and AAAA data to the backend.
func (s *Server) feed(ctx context.Context, changes []pendingChange, sets []RecordSet) error {
	if s.opt.Backend == nil {
		return nil
	}
	var names []string
	for _, c := range changes {
		if (c.set.Type == "A" || c.set.Type == "AAAA") && !slices.Contains(names, c.set.Name) {
			names = append(names, c.set.Name)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, n := range names {
		var addrs []netip.Addr
		for _, r := range sets {
			if r.Name == n && (r.Type == "A" || r.Type == "AAAA") {
				for _, v := range r.Values {
					a, _ := netip.ParseAddr(v)
					if !slices.Contains(addrs, a) {
						addrs = append(addrs, a)
					}
				}
			}
		}
		if err := s.opt.Backend.Update(ctx, presentation(n), addrs); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	return nil
}

func (s *Server) changeInfo(c *change) xmlChangeInfo {
	st := "PENDING"
	if !s.clock.Now().Before(c.submitted.Add(s.opt.ChangeDelay)) {
		st = "INSYNC"
	}
	return xmlChangeInfo{ID: "/change/" + c.id, Status: st, SubmittedAt: c.submitted.UTC().Format("2006-01-02T15:04:05.000Z"), Comment: c.comment}
}

func (s *Server) getChange(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.changes[strings.TrimPrefix(id, "change/")]
	if c == nil {
		r53Error(w, http.StatusNotFound, "Sender", "NoSuchChange", "A change with the specified change ID does not exist: "+id)
		return
	}
	writeXML(w, http.StatusOK, xmlGetChangeResponse{ChangeInfo: s.changeInfo(c)})
}

func toXMLSet(r RecordSet) xmlRecordSet {
	x := xmlRecordSet{Name: r.Name, Type: r.Type, Weight: r.Weight, MultiValueAnswer: r.MultiValueAnswer, ResourceRecords: &xmlRecords{}}
	ttl := r.TTL
	x.TTL = &ttl
	if r.SetIdentifier != "" {
		id := r.SetIdentifier
		x.SetIdentifier = &id
	}
	for _, v := range r.Values {
		x.ResourceRecords.Records = append(x.ResourceRecords.Records, xmlValue{v})
	}
	return x
}

// maxItems reads the maxitems parameter: default and cap def.
func maxItems(q string, def int) (int, error) {
	if q == "" {
		return def, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must be a positive integer", q)
	}
	return min(n, def), nil
}

func (s *Server) listRecords(w http.ResponseWriter, id string, r *http.Request) {
	q := r.URL.Query()
	name, typ, ident := q.Get("name"), q.Get("type"), q.Get("identifier")
	limit, err := maxItems(q.Get("maxitems"), 300)
	switch {
	case err != nil:
	case typ != "" && name == "":
		err = fmt.Errorf("The input is not valid: type requires name")
	case ident != "" && typ == "":
		err = fmt.Errorf("The input is not valid: identifier requires name and type")
	case typ != "" && !slices.Contains(knownTypes, typ):
		err = fmt.Errorf("The input is not valid: %q is not a record type", typ)
	}
	start := RecordSet{Type: typ, SetIdentifier: ident}
	if err == nil && name != "" {
		start.Name, err = normalName(name)
	}
	if err != nil {
		r53Error(w, http.StatusBadRequest, "Sender", "InvalidInput", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zoneByID(w, id)
	if z == nil {
		return
	}
	out := xmlListRecordsResponse{MaxItems: strconv.Itoa(limit)}
	for _, rs := range z.sets {
		if name != "" && compareSets(rs, start) < 0 {
			continue
		}
		if len(out.Sets) == limit {
			out.IsTruncated = true
			n, t := rs.Name, rs.Type
			out.NextRecordName, out.NextRecordType = &n, &t
			if rs.SetIdentifier != "" {
				i := rs.SetIdentifier
				out.NextRecordIdentifier = &i
			}
			break
		}
		out.Sets = append(out.Sets, toXMLSet(rs))
	}
	writeXML(w, http.StatusOK, out)
}

func (s *Server) xmlZone(z *zone) xmlHostedZone {
	x := xmlHostedZone{ID: "/hostedzone/" + z.ID, Name: z.Name, CallerReference: z.callerRef, ResourceRecordSetCount: len(z.sets)}
	x.Config.PrivateZone = z.Private
	return x
}

func (s *Server) getZone(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zoneByID(w, id)
	if z == nil {
		return
	}
	out := xmlGetZoneResponse{HostedZone: s.xmlZone(z)}
	if z.Private {
		out.VPCs = []xmlVPC{{Region: s.opt.EC2Region, ID: "vpc-0123456789abcdef0"}}
	} else {
		ns := z.sets[slices.IndexFunc(z.sets, func(r RecordSet) bool { return r.Name == z.Name && r.Type == "NS" })]
		out.DelegationSet = &struct {
			NameServers []string `xml:"NameServers>NameServer"`
		}{NameServers: slices.Clone(ns.Values)}
	}
	writeXML(w, http.StatusOK, out)
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dnsName, zid := q.Get("dnsname"), q.Get("hostedzoneid")
	limit, err := maxItems(q.Get("maxitems"), 100)
	if err == nil && zid != "" && dnsName == "" {
		err = fmt.Errorf("The input is not valid: hostedzoneid requires dnsname")
	}
	start := ""
	if err == nil && dnsName != "" {
		start, err = normalName(dnsName)
	}
	if err != nil {
		r53Error(w, http.StatusBadRequest, "Sender", "InvalidInput", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	zs := make([]*zone, 0, len(s.zones))
	for _, z := range s.zones {
		zs = append(zs, z)
	}
	slices.SortFunc(zs, func(a, b *zone) int {
		if c := compareNames(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := xmlListZonesByNameResponse{MaxItems: strconv.Itoa(limit)}
	if dnsName != "" {
		out.DNSName = &dnsName
	}
	if zid != "" {
		out.HostedZoneID = &zid
	}
	for _, z := range zs {
		if start != "" {
			c := compareNames(z.Name, start)
			if c < 0 || (c == 0 && zid != "" && z.ID < strings.TrimPrefix(zid, "/hostedzone/")) {
				continue
			}
		}
		if len(out.HostedZones) == limit {
			out.IsTruncated = true
			n, i := z.Name, z.ID
			out.NextDNSName, out.NextHostedZoneID = &n, &i
			break
		}
		out.HostedZones = append(out.HostedZones, s.xmlZone(z))
	}
	writeXML(w, http.StatusOK, out)
}
