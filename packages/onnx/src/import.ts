// loadOnnx: being written (issue 14).
export {};
