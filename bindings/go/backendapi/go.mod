module github.com/backend-api/backend-api/bindings/go/backendapi

go 1.23
