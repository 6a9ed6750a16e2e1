package memstore_test

import (
	"testing"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
	"github.com/eddy-streams/eddy/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Backend { return memstore.New(nil) })
}
