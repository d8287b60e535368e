// The WebP decode profile behind bench/RESULTS.md's "Time floors" note: libwebp's scaling
// decode of one file, the way `imaging::webp::decode_scaled` calls it, built against the very
// static library cargo built for the functions, with symbols, so `perf record` can name the
// hot functions (the release binaries are stripped).
//
// A=$(ls target/release/build/libwebp-sys-*/out/libwebpsys.a | head -1)
// V=$(ls -d ~/.cargo/registry/src/*/libwebp-sys-0.14.*/vendor/src | head -1)
// gcc -O2 -g -I"$V" bench/profile/webp-decode.c "$A" -lpthread -lm -o /tmp/webp-decode
// perf record -o /tmp/perf.data -- taskset -c 0 /tmp/webp-decode bench/fixtures/webp-lossy-20mp.webp 1024 683
// perf report -i /tmp/perf.data --no-children --stdio | grep '%' | head
//
// Arguments: file, scaled width and height (0 0: full size), then optional bypass_filtering
// and no_fancy_upsampling flags (0/1). Prints each of five decodes' time.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "webp/decode.h"
int main(int argc, char** argv){
  FILE* f=fopen(argv[1],"rb"); fseek(f,0,SEEK_END); long n=ftell(f); fseek(f,0,SEEK_SET);
  unsigned char* b=malloc(n); fread(b,1,n,f); fclose(f);
  int sw=atoi(argv[2]), sh=atoi(argv[3]); int bypass=argc>4?atoi(argv[4]):0; int nofancy=argc>5?atoi(argv[5]):0;
  for(int r=0;r<5;r++){
  WebPDecoderConfig c; WebPInitDecoderConfig(&c); WebPGetFeatures(b,n,&c.input);
  if(sw){c.options.use_scaling=1;c.options.scaled_width=sw;c.options.scaled_height=sh;}
  c.options.bypass_filtering=bypass; c.options.no_fancy_upsampling=nofancy;
  c.output.colorspace=MODE_RGB;
  struct timespec t0,t1; clock_gettime(CLOCK_MONOTONIC,&t0);
  int s=WebPDecode(b,n,&c);
  clock_gettime(CLOCK_MONOTONIC,&t1);
  printf("%d %dx%d %.1f ms\n",s,c.output.width,c.output.height,(t1.tv_sec-t0.tv_sec)*1e3+(t1.tv_nsec-t0.tv_nsec)/1e6);
  WebPFreeDecBuffer(&c.output);}
}
