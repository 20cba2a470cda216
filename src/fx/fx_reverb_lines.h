/* The body of sg_reverb_process for RV_N lines, included by fx_reverb.c once per line count
 * (RV_N and RV_FN defined before each inclusion), so N is a constant in every loop. */
static void RV_FN(sg_reverb *st, float *L, float *R, size_t n) {
  const int N = RV_N;
  const int NM = st->mod_d > 0 ? 4 : 0; /* the last NM lines are modulated */
  const int NU = N - NM;
  const double g = st->cfg.diffusion, lpa = st->lp_a, aS = st->a_smooth, mt = st->mix_target;
  const double in_scale = 1.0 / sqrt((double)N), out_scale = 1.0 / sqrt((double)N);
  size_t B = RV_SUB;
  for (int i = 0; i < N; ++i)
    if (st->len[i] < B + 3)
      B = st->len[i] - 3;
  double mix = st->mix_cur;
  double Y[RV_N][RV_SUB];
  float A[RV_SUB];
  const double hsc = 1.0 / sqrt((double)N); /* the Hadamard matrix's normalisation */
  double ub[2][RV_SUB], ol[RV_SUB], orr[RV_SUB];
  double sn[4][RV_SUB];
  double s1[SG_REVERB_MAX_LINES], s2[SG_REVERB_MAX_LINES], s3[SG_REVERB_MAX_LINES];
  double gm[SG_REVERB_MAX_LINES], gd[SG_REVERB_MAX_LINES], hb[SG_REVERB_MAX_LINES];
  double lps[SG_REVERB_MAX_LINES], hfs[SG_REVERB_MAX_LINES], h0[SG_REVERB_MAX_LINES];
  const double a1 = 1 - lpa;
  for (int i = 0; i < N; ++i) {
    /* Two different Hadamard rows (1 and 2) as output taps: orthogonal, so L and R are
     * decorrelated while carrying the same energy; row 3 spreads the input. */
    s1[i] = hsign(1, i), s2[i] = hsign(2, i), s3[i] = hsign(3, i);
    gm[i] = st->g_mid[i], gd[i] = st->g_low[i] - st->g_mid[i], hb[i] = st->hf_b[i];
    h0[i] = 1 - hb[i];
    lps[i] = st->lp_s[i], hfs[i] = st->hf_s[i];
  }
  for (size_t t0 = 0; t0 < n; t0 += B) {
    const size_t nb = n - t0 < B ? n - t0 : B;
    float *Lb = L + t0, *Rb = R ? R + t0 : NULL;
    for (size_t t = 0; t < nb; ++t) {
      double xl = Lb[t], xr = Rb ? Rb[t] : xl, u[2];
      /* Pre-delay (a ring of pre_len frames; zero length bypasses). */
      if (st->pre_len) {
        float *pp = st->pre + 2 * st->pre_pos;
        u[0] = pp[0], u[1] = pp[1];
        pp[0] = (float)xl, pp[1] = (float)xr;
        if (++st->pre_pos == st->pre_len)
          st->pre_pos = 0;
      } else {
        u[0] = xl, u[1] = xr;
      }
      /* Input diffusion: Schroeder allpasses y = -g x + d, store x + g y. */
      for (int k = 0; k < SG_REVERB_DIFFUSERS; ++k) {
        size_t p = st->ap_pos[k];
        for (int ch = 0; ch < 2; ++ch) {
          double d = st->ap[ch][k][p];
          double v = -g * u[ch] + d;
          st->ap[ch][k][p] = (float)sg_dsp_flush(u[ch] + g * v);
          u[ch] = v;
        }
        if (++st->ap_pos[k] == st->ap_len[k])
          st->ap_pos[k] = 0;
      }
      /* (u s3) in_scale = s3 (u in_scale) exactly (s3 = +-1). */
      ub[0][t] = u[0] * in_scale, ub[1][t] = u[1] * in_scale;
    }
    /* Unmodulated lines: a ring of exactly len, the oldest frame at the write index. */
    for (int i = 0; i < NU; ++i) {
      const float *b = st->line[i];
      const size_t p = st->pos[i], k1 = st->cap[i] - p < nb ? st->cap[i] - p : nb;
      double *y = Y[i];
      for (size_t t = 0; t < k1; ++t)
        y[t] = b[p + t];
      for (size_t t = k1; t < nb; ++t)
        y[t] = b[t - k1];
    }
    if (NM) {
      /* Delay len + swing (1 + sin(theta + k 90 deg)) / 2, read by cubic Hermite. */
      for (size_t t = 0; t < nb; ++t) {
        sn[0][t] = st->mod_s, sn[1][t] = st->mod_c, sn[2][t] = -st->mod_s, sn[3][t] = -st->mod_c;
        double nc = st->mod_c * st->rot_c - st->mod_s * st->rot_s;
        st->mod_s = st->mod_c * st->rot_s + st->mod_s * st->rot_c;
        st->mod_c = nc;
        if ((++st->mod_count & 1023u) == 0) { /* renormalise, counted from reset */
          double m = sqrt(st->mod_c * st->mod_c + st->mod_s * st->mod_s);
          st->mod_c /= m, st->mod_s /= m;
        }
      }
      for (int i = NU; i < N; ++i) {
        const size_t cap = st->cap[i];
        size_t p = st->pos[i];
        for (size_t t = 0; t < nb; ++t) {
          Y[i][t] = read_line(st->line[i], cap, p,
                              (double)st->len[i] + 0.5 * st->mod_d * (1 + sn[i - NU][t]));
          p = p + 1 == cap ? 0 : p + 1;
        }
      }
    }
    /* A short sub-block: the vector loops below run over all RV_SUB frames, on zeros past nb. */
    if (nb < RV_SUB) {
      for (int i = 0; i < N; ++i)
        memset(Y[i] + nb, 0, (RV_SUB - nb) * sizeof **Y);
      memset(ub[0] + nb, 0, (RV_SUB - nb) * sizeof **ub);
      memset(ub[1] + nb, 0, (RV_SUB - nb) * sizeof **ub);
    }
    /* Output taps, summed over the lines in order for every frame. */
    for (size_t t = 0; t < RV_SUB; ++t)
      ol[t] = 0, orr[t] = 0;
    for (int i = 0; i < N; ++i)
      for (size_t t = 0; t < RV_SUB; ++t) {
        ol[t] += s1[i] * Y[i][t];
        orr[t] += s2[i] * Y[i][t];
      }
    /* Absorb: the low-band split, then the damping pole. A recursion along each line, so the
     * lines run side by side frame by frame (independent chains, no latency-bound loop). */
    for (size_t t = 0; t < nb; ++t)
      for (int i = 0; i < N; ++i) {
        const double y = Y[i][t];
        const double lp = sg_dsp_flush(a1 * y + lpa * lps[i]);
        const double v = gm[i] * y + gd[i] * lp;
        const double hf = sg_dsp_flush(h0[i] * v + hb[i] * hfs[i]);
        lps[i] = lp, hfs[i] = hf;
        Y[i][t] = hf;
      }
    /* Hadamard mix of every frame at once: butterflies across lines, each over the frames. */
    for (int h = 1; h < N; h <<= 1)
      for (int i = 0; i < N; i += h << 1)
        for (int j = i; j < i + h; ++j) {
          rv_butterfly(Y[j], Y[j + h]);
        }
    /* Normalise, inject and write back ((u s3) in_scale = s3 (u in_scale) exactly, s3 = +-1). */
    for (int i = 0; i < N; ++i) {
      float *b = st->line[i];
      const size_t p = st->pos[i], k1 = st->cap[i] - p < nb ? st->cap[i] - p : nb;
      const double *u = ub[i & 1], sg = s3[i];
      const double *y = Y[i];
      rv_inject(A, y, hsc, u, sg);
      for (size_t t = 0; t < k1; ++t)
        b[p + t] = A[t];
      for (size_t t = k1; t < nb; ++t)
        b[t - k1] = A[t];
      st->pos[i] = p + nb >= st->cap[i] ? p + nb - st->cap[i] : p + nb;
    }
    for (size_t t = 0; t < nb; ++t) {
      double xl = Lb[t], xr = Rb ? Rb[t] : xl;
      mix = sg_smooth_step(mix, mt, aS);
      Lb[t] = (float)((1 - mix) * xl + mix * ol[t] * out_scale);
      if (Rb)
        Rb[t] = (float)((1 - mix) * xr + mix * orr[t] * out_scale);
    }
  }
  for (int i = 0; i < N; ++i)
    st->lp_s[i] = lps[i], st->hf_s[i] = hfs[i];
  st->mix_cur = mix;
}

#undef RV_N
#undef RV_FN
