package cloudwatch

import "reflect"

var reflectMapStringAny = reflect.TypeOf(map[string]any(nil))
