package lambda

// UpdateFunctionCode (PUT /2015-03-31/functions/NAME/code): replaces the
// code (ZipFile, or S3Bucket "eddy-local" + S3Key a directory). Warm
// processes of the old code finish their invocation and are not reused;
// the next invocation starts the new code. DryRun validates only.

import (
	"net/http"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type updateCodeInput struct {
	ZipFile    []byte  `json:"ZipFile"`
	S3Bucket   *string `json:"S3Bucket"`
	S3Key      *string `json:"S3Key"`
	ImageUri   *string `json:"ImageUri"`
	DryRun     bool    `json:"DryRun"`
	RevisionId string  `json:"RevisionId"`
}

func opUpdateFunctionCode(s *Service, c *call) (response, error) {
	var in updateCodeInput
	if err := decode(c, &in); err != nil {
		return response{}, err
	}
	s.mu.Lock()
	f, err := s.lookupLocked(c.req.Account, c.req.Region, c.name, "")
	s.mu.Unlock()
	if err != nil {
		return response{}, err
	}
	code, err := s.installCode(f.Config.FunctionName, FunctionCode{ZipFile: in.ZipFile, S3Bucket: in.S3Bucket, S3Key: in.S3Key, ImageUri: in.ImageUri})
	if err != nil {
		return response{}, err
	}
	k := fkey{f.Account, f.Region, f.Config.FunctionName}
	var obj string
	if !in.DryRun {
		if obj, err = s.storeCode(k, in.ZipFile, code); err != nil {
			s.discardCode(code, "")
			return response{}, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.funcs[k]; cur != f {
		s.discardCode(code, obj)
		if cur != nil && s.o.Shared != nil {
			// replaced by another node's change while the code unpacked
			return response{}, errConcurrent(f.Config.FunctionArn)
		}
		return response{}, errNotFoundFn(f.Region, f.Account, f.Config.FunctionName)
	}
	if in.RevisionId != "" && in.RevisionId != f.Config.RevisionId {
		s.discardCode(code, obj)
		return response{}, awserr.New(tPreconditionFailed, http.StatusPreconditionFailed, "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
	}
	if in.DryRun {
		s.discardCode(code, obj)
		return response{status: http.StatusOK, body: f.Config}, nil
	}
	prev := f.storedFunction
	f.Config.CodeSha256, f.Config.CodeSize = code.sha, code.size
	f.CodeDir, f.LocalDir, f.CodeObject = code.dir, code.local, obj
	s.touchLocked(f)
	if err := s.saveLocked(); err != nil {
		if s.o.Shared != nil {
			// the store keeps the old code: so does this node
			f.storedFunction = prev
			s.touchLocked(f)
			s.discardCode(code, obj)
		}
		return response{}, err
	}
	if s.o.Shared != nil {
		s.dropCode(prev.CodeObject)
	}
	return response{status: http.StatusOK, body: f.Config}, nil
}

// touchLocked records a change: new revision, and a new process pool (the
// old one's idle processes are killed, busy ones end after their call).
func (s *Service) touchLocked(f *function) {
	f.Config.LastModified = lambdaTime(s.now())
	f.Config.RevisionId = newUUID()
	old := f.pool
	f.pool = s.newPool(f)
	old.close()
}
