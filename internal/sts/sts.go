// Package sts answers STS GetCallerIdentity, the call the KPL, the AWS
// CLI's "sts get-caller-identity" and many tools make first. STS speaks
// only the query protocol (a form-encoded POST with Action and Version,
// answered in XML): both the current botocore model and aws-sdk-go-v2's
// STS client use it. The caller is the gateway identity: its account
// (from the access key or --account) and an ARN for the account's root
// user, since Eddy has no IAM users.
package sts

import (
	"bytes"
	"encoding/xml"
	"net/http"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/query"
)

// TargetPrefix names the service in the gateway (and its counters).
const TargetPrefix = "AWSSecurityTokenServiceV20110615"

const (
	version = "2011-06-15"
	xmlns   = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// Service is STS.
type Service struct{}

// New returns the service.
func New() *Service { return &Service{} }

// TargetPrefix implements awsproto.Service.
func (*Service) TargetPrefix() string { return TargetPrefix }

// Handle implements awsproto.Service; STS has no JSON protocol.
func (*Service) Handle(*awsproto.Request) (any, error) { return nil, awserr.UnknownOperation() }

// Claims takes query-protocol requests of STS's version (or naming
// GetCallerIdentity without one).
func (*Service) Claims(r *http.Request, body []byte) (string, bool) {
	if !query.IsForm(r) || r.Header.Get("X-Amz-Target") != "" {
		return "", false
	}
	v, err := query.Params(body)
	if err != nil {
		return "", false
	}
	action := v.Get("Action")
	if v.Get("Version") == version || (v.Get("Version") == "" && action == "GetCallerIdentity") {
		if action == "" {
			action = "unknown"
		}
		return action, true
	}
	return "", false
}

type callerIdentity struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserId  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// ServeAWS answers GetCallerIdentity; any other STS action is an
// InvalidAction error, as STS gives for unknown actions.
func (*Service) ServeAWS(w http.ResponseWriter, r *http.Request, req *awsproto.Request, authErr error) string {
	if authErr != nil {
		e := &query.Error{Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
		if ae, ok := awserr.As(authErr); ok {
			e = &query.Error{Status: ae.Status, Code: ae.Type, Message: ae.Message}
			if e.Status == 400 {
				e.Status = 403
			}
		}
		query.WriteError(w, xmlns, req.RequestID, e)
		return e.Code
	}
	if req.Operation != "GetCallerIdentity" {
		e := &query.Error{Status: 400, Code: "InvalidAction", Message: "Could not find operation " + req.Operation + " for version " + version}
		query.WriteError(w, xmlns, req.RequestID, e)
		return e.Code
	}
	var out callerIdentity
	out.Xmlns = xmlns
	out.Result.Account = req.Account
	out.Result.Arn = "arn:aws:iam::" + req.Account + ":root"
	out.Result.UserId = req.Account
	out.RequestID = req.RequestID
	var b bytes.Buffer
	b.WriteString(xml.Header[:len(xml.Header)-1])
	if err := xml.NewEncoder(&b).Encode(out); err != nil {
		query.WriteError(w, xmlns, req.RequestID, &query.Error{Status: 500, Code: "InternalFailure", Message: "encode response"})
		return "InternalFailure"
	}
	query.WriteXML(w, b.Bytes())
	return "200"
}
