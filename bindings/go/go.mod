module github.com/backend-api/backend-api/bindings/go

go 1.23
