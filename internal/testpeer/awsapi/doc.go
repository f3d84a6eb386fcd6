// Package awsapi is a strict test peer for the two AWS APIs ec2boot
// talks to: Route 53 (REST-XML, API version 2013-04-01) for the DNS
// provider, and EC2 DescribeInstances (Query protocol, 2016-11-15) for
// peer discovery. No emulator of either runs offline, so this one is
// checked from the client side by the real aws-sdk-go-v2 clients
// (service/route53, service/ec2) in its own tests, and by a second,
// independent client: the AWS command line client (botocore).
//
// # Using it
//
//	s := awsapi.Start(t, awsapi.Options{Backend: bindServer})
//	s.AddCredentials(awsapi.Credentials{AccessKeyID: …, SecretAccessKey: …, Token: …})
//	zone, _ := s.AddHostedZone("fleet.example.com", false)
//	_ = s.SetInstances([]awsapi.Instance{…})
//	for k, v := range s.Env() { t.Setenv(k, v) } // AWS_ENDPOINT_URL_ROUTE_53, AWS_ENDPOINT_URL_EC2
//
// Both services share one loopback endpoint (plain HTTP); the global
// AWS_ENDPOINT_URL works too. With an endpoint override the SDK's
// Route 53 client signs for its configured region, and the peer insists
// on us-east-1 like the real global endpoint: give the Route 53 client
// that region. Instance.AEMMConfig turns an inventory entry into the
// configuration of AWS's metadata emulator (internal/testpeer/aemm), with
// the role credentials the peer accepts, so the SDK's default chain
// (ec2rolecreds via AWS_EC2_METADATA_SERVICE_ENDPOINT) signs with them.
//
// A client with retries switched off can now and then fail a large answer
// with "use of closed network connection": the SDK closes a request's body
// as soon as the response arrives, racing net/http's final read of that
// body, and a loopback peer answers fast enough to lose the race
// (aws-sdk-go-v2 issues 1825 and 2737). The SDK's standard retryer retries
// it; a test that turns retries off should still retry net.ErrClosed, as
// this package's own tests do.
//
// # What it checks
//
//   - SigV4 on every request: AWS4-HMAC-SHA256; the credential scope's
//     date (matching x-amz-date), region, service and aws4_request; host
//     and x-amz-date signed; x-amz-security-token present, signed and equal
//     for keys registered with a token; x-amz-content-sha256, when sent,
//     equal to the body's hash; x-amz-date within 5 minutes of the peer's
//     clock. The expected signature is computed by the SDK's own signer
//     (aws/signer/v4) over a copy of the request carrying only the headers
//     the client says it signed. Refusals: SignatureDoesNotMatch (403);
//     an unknown key or a wrong or missing session token is Route 53's
//     InvalidClientTokenId (403) and EC2's AuthFailure (401); a skewed
//     clock is SignatureDoesNotMatch "Signature expired" on Route 53 and
//     RequestExpired (400) on EC2; no Authorization header is
//     MissingAuthenticationToken.
//   - Route 53: ChangeResourceRecordSets (…/rrset and …/rrset/),
//     ListResourceRecordSets, GetHostedZone, ListHostedZonesByName,
//     GetChange, with the namespace on every root element and errors as
//     ErrorResponse›Error›{Type,Code,Message} plus RequestId, except
//     InvalidChangeBatch, which by default has its own root and one
//     Message per failed change; Options.ChangeBatchErrors selects the
//     other shape the service uses (ErrorResponse, messages bracketed in
//     one Message), the only one botocore reads. Batches are atomic and applied in order: CREATE of an
//     existing set, DELETE of a missing set or with any difference in TTL,
//     values (order ignored), SetIdentifier, Weight or MultiValueAnswer
//     fail the whole batch; DELETE then CREATE of one set is a legal swap.
//     SetIdentifier needs a routing field and the reverse; simple, weighted
//     and multivalue sets of one name and type do not mix; CNAME stands
//     alone and not at the apex; at most 1,000 ResourceRecord elements and
//     32,000 value characters a request, UPSERT counting twice. Names are
//     lower-cased, fully qualified and octal-escaped outside a-z 0-9 - _
//     (\052 for *). Listings sort by name with the labels reversed, then
//     type, then identifier, 300 sets (100 zones) a page with the Next*
//     fields. A public and a private zone may share a name. A change is
//     PENDING for Options.ChangeDelay on the peer's clock, then INSYNC.
//   - EC2 DescribeInstances as a form POST or a signed GET: every
//     parameter known and given once (UnknownParameter otherwise), Version
//     2016-11-15 (NoSuchVersion), Filter.N.Name/Value.M (values OR, filters
//     AND, * and ? wildcards) for tag:KEY, tag-key, tag-value,
//     instance-state-name, instance-state-code, instance-id,
//     private-ip-address, ip-address, availability-zone, image-id,
//     instance-type, reservation-id and ami-launch-index
//     (InvalidParameterValue for others); InstanceId.N (Malformed /
//     NotFound); MaxResults 5–1000 and not with instance IDs; NextToken
//     bound to the request's filters (InvalidNextToken); DryRun. Errors are
//     Response›Errors›Error›{Code,Message} then RequestID.
//   - Faults on demand (Inject, RateLimit): throttling (Throttling 400
//     "Rate exceeded" / RequestLimitExceeded 503), AccessDenied naming the
//     action and resource / UnauthorizedOperation with an encoded message,
//     500 InternalFailure / InternalError, PriorRequestNotComplete, a body
//     that is not well-formed XML, a delay; a token bucket per service.
//     Count reports the requests per action, refused ones included, so a
//     test can assert that a run sent none.
//   - Options.Backend receives, after each successful batch, the A and
//     AAAA data of every name the batch touched (internal/testpeer/authdns
//     or internal/testpeer/bind through RFC 2136), so lookups see what the
//     API holds. A backend failure answers 500 and keeps the API's state.
//
// # What it does not do
//
// Alias targets, health checks, failover, latency, geolocation and
// traffic-policy records (refused with InvalidInput naming the limit);
// creating or deleting zones through the API; record types other than A
// and AAAA reaching the Backend; the older 100-changes-per-request limit;
// account-level or change-throughput quotas beyond the token bucket;
// IAM policy evaluation (Deny is injected, not derived); presigned
// (query-string) signatures; EC2 actions other than DescribeInstances and
// the many other filters and instance fields. Message texts follow the
// API reference and the SDK's error handling where those give them, and
// are close paraphrases otherwise: tests should match codes, not whole
// messages.
package awsapi
