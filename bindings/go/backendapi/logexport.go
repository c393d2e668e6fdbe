package backendapi

// This file holds only the //exports: cgo copies the preamble of a file with an
// //export into two C files, so it must hold declarations only. The C side
// (the trampoline handed to backend_api_client_set_log) is in log.go.

/*
#include <stdint.h>
#include <backend_api.h>
*/
import "C"

//export backendapiGoLog
func backendapiGoLog(id C.uintptr_t, level C.backend_api_log_level, message *C.char) {
	deliverLog(uintptr(id), LogLevel(level), C.GoString(message))
}

//export backendapiGoLogDestroy
func backendapiGoLogDestroy(id C.uintptr_t) {
	dropSink(uintptr(id))
}
