/*
 * peft_version.h - the one place the versions are written: this runtime's
 * release, and the Hugging Face PEFT it follows (the version its saves write
 * as peft_version, and the commit its facts come from).
 */
#ifndef PEFT_VERSION_H
#define PEFT_VERSION_H

#define PEFT_RELEASE "peft 0.1.0"
#define PEFT_FOLLOWS "0.20.1.dev0"
#define PEFT_FOLLOWS_COMMIT "5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40"

#endif
