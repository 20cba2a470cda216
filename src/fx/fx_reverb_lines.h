/* The body of sg_reverb_process for RV_N lines, included by fx_reverb.c once per line count and
 * instruction set (RV_N, RV_FN and RV_ATTR defined before each inclusion), so N is a constant in
 * every loop. */
RV_ATTR static void RV_FN(sg_reverb *st, float *L, float *R, size_t n) {
  enum { N = RV_N };
  const int NM = st->mod_d > 0 ? 4 : 0; /* the last NM lines are modulated */
  const int NU = N - NM;
  const float g = (float)st->cfg.diffusion, lpa = (float)st->lp_a, a1 = (float)(1 - st->lp_a);
  const float hsc = (float)(1.0 / sqrt((double)N)); /* Hadamard normalisation = input scale */
  const double aS = st->a_smooth, mt = st->mix_target, out_scale = 1.0 / sqrt((double)N);
  size_t B = RV_SUB;
  for (int i = 0; i < N; ++i)
    if (st->len[i] < B + 3)
      B = st->len[i] - 3;
  double mix = st->mix_cur, mx[RV_SUB];
  /* The sub-block as lines x frames (read, written, mixed over the frames) and as frames x lines
   * (the absorbers' recursions run along the frames, every line side by side). */
  RV_ALIGN float Yl[RV_N][RV_SUB];
  RV_ALIGN float Yt[RV_SUB][RV_N];
  RV_ALIGN float ub[2][RV_SUB], ol[RV_SUB], orr[RV_SUB];
  double sn[4][RV_SUB];
  float s1[RV_N], s2[RV_N], s3[RV_N];
  rv_v4 vgm[RV_N / 4], vgd[RV_N / 4], vhb[RV_N / 4], vh0[RV_N / 4], vlp[RV_N / 4], vhf[RV_N / 4];
  const rv_v4 va1 = {a1, a1, a1, a1}, vlpa = {lpa, lpa, lpa, lpa};
  for (int i = 0; i < N; ++i) {
    /* Two different Hadamard rows (1 and 2) as output taps: orthogonal, so L and R are
     * decorrelated while carrying the same energy; row 3 spreads the input. */
    s1[i] = (float)hsign(1, i), s2[i] = (float)hsign(2, i), s3[i] = (float)hsign(3, i);
    vgm[i / 4][i % 4] = (float)st->g_mid[i];
    vgd[i / 4][i % 4] = (float)(st->g_low[i] - st->g_mid[i]);
    vhb[i / 4][i % 4] = (float)st->hf_b[i], vh0[i / 4][i % 4] = (float)(1 - st->hf_b[i]);
    vlp[i / 4][i % 4] = (float)st->lp_s[i], vhf[i / 4][i % 4] = (float)st->hf_s[i];
  }
  for (size_t t0 = 0; t0 < n; t0 += B) {
    const size_t nb = n - t0 < B ? n - t0 : B;
    const size_t n4 = (nb + 3) & ~(size_t)3; /* frames rounded up for the 4 x 4 transposes */
    float *Lb = L + t0, *Rb = R ? R + t0 : NULL;
    /* Pre-delay (a stereo ring of pre_len frames; zero length bypasses), in runs that do not
     * wrap: a run reads every slot before it rewrites it, as the per-frame ring does. */
    if (st->pre_len) {
      for (size_t t = 0; t < nb;) {
        const size_t p = st->pre_pos, m = st->pre_len - p < nb - t ? st->pre_len - p : nb - t;
        float *pp = st->pre + 2 * p;
        for (size_t k = 0; k < m; ++k) {
          const float xl = Lb[t + k], xr = Rb ? Rb[t + k] : xl;
          ub[0][t + k] = pp[2 * k], ub[1][t + k] = pp[2 * k + 1];
          pp[2 * k] = xl, pp[2 * k + 1] = xr;
        }
        st->pre_pos = p + m == st->pre_len ? 0 : p + m;
        t += m;
      }
    } else {
      for (size_t t = 0; t < nb; ++t)
        ub[0][t] = Lb[t], ub[1][t] = Rb ? Rb[t] : Lb[t];
    }
    /* Input diffusion, each allpass over runs of at most its own length (no frame of a run reads
     * what the run writes), so every frame of a run is independent. */
    for (int k = 0; k < SG_REVERB_DIFFUSERS; ++k) {
      const size_t len = st->ap_len[k];
      size_t p = st->ap_pos[k];
      for (size_t t = 0; t < nb;) {
        const size_t m = len - p < nb - t ? len - p : nb - t;
        rv_allpass(st->ap[0][k] + p, ub[0] + t, m, g);
        rv_allpass(st->ap[1][k] + p, ub[1] + t, m, g);
        p = p + m == len ? 0 : p + m;
        t += m;
      }
      st->ap_pos[k] = p;
    }
    for (size_t t = 0; t < nb; ++t)
      ub[0][t] *= hsc, ub[1][t] *= hsc; /* (u s3) hsc = s3 (u hsc) exactly (s3 = +-1) */
    /* Unmodulated lines: a ring of exactly len, the oldest frame at the write index; read in
     * place (up to n4 frames, in the ring) unless the sub-block wraps. */
    const float *rows[RV_N];
    for (int i = 0; i < NU; ++i) {
      const float *b = st->line[i];
      const size_t p = st->pos[i], cap = st->cap[i];
      if (p + n4 <= cap) {
        rows[i] = b + p;
        continue;
      }
      const size_t k1 = cap - p < nb ? cap - p : nb;
      for (size_t t = 0; t < k1; ++t)
        Yl[i][t] = b[p + t];
      for (size_t t = k1; t < nb; ++t)
        Yl[i][t] = b[t - k1];
      for (size_t t = nb; t < n4; ++t)
        Yl[i][t] = 0;
      rows[i] = Yl[i];
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
          Yl[i][t] = (float)read_line(st->line[i], cap, p,
                                      (double)st->len[i] + 0.5 * st->mod_d * (1 + sn[i - NU][t]));
          p = p + 1 == cap ? 0 : p + 1;
        }
        for (size_t t = nb; t < n4; ++t)
          Yl[i][t] = 0;
        rows[i] = Yl[i];
      }
    }
    /* Output taps, summed over the lines in order for every frame. */
    for (size_t t = 0; t < nb; ++t)
      ol[t] = 0, orr[t] = 0;
    for (int i = 0; i < N; ++i) {
      const float *y = rows[i], a = s1[i], c = s2[i];
      for (size_t t = 0; t < nb; ++t) {
        ol[t] += a * y[t];
        orr[t] += c * y[t];
      }
    }
    rv_transpose(rows, &Yt[0][0], N, N, n4);
    /* Absorb (the low-band split, then the damping pole) and the Hadamard butterflies that pair
     * lines of different groups of four, frame by frame, four lines to a vector. */
    for (size_t t = 0; t < nb; ++t) {
      rv_v4 z[RV_N / 4];
      for (int k = 0; k < N / 4; ++k) {
        const rv_v4 y = rv_load(Yt[t] + 4 * k);
        const rv_v4 lp = rv_vflush(va1 * y + vlpa * vlp[k]);
        const rv_v4 v = vgm[k] * y + vgd[k] * lp;
        const rv_v4 hf = rv_vflush(vh0[k] * v + vhb[k] * vhf[k]);
        vlp[k] = lp, vhf[k] = hf;
        z[k] = hf;
      }
#if RV_N == 16
      {
        const rv_v4 a = z[0], b = z[1];
        z[0] = a + z[2], z[2] = a - z[2];
        z[1] = b + z[3], z[3] = b - z[3];
      }
#endif
      for (int k = 0; k < N / 4; k += 2) {
        const rv_v4 a = z[k];
        z[k] = a + z[k + 1], z[k + 1] = a - z[k + 1];
      }
      for (int k = 0; k < N / 4; ++k)
        rv_store(Yt[t] + 4 * k, z[k]);
    }
    const float *trow[RV_SUB];
    for (size_t t = 0; t < n4; ++t)
      trow[t] = Yt[t];
    rv_transpose(trow, &Yl[0][0], RV_SUB, n4, N);
    /* The butterflies within each group of four, over the frames (the stages of a fast
     * Walsh-Hadamard transform commute), then normalise, inject and write back. */
    for (int i = 0; i < N; i += 4) {
      rv_butterfly(Yl[i], Yl[i + 1], nb);
      rv_butterfly(Yl[i + 2], Yl[i + 3], nb);
      rv_butterfly(Yl[i], Yl[i + 2], nb);
      rv_butterfly(Yl[i + 1], Yl[i + 3], nb);
    }
    for (int i = 0; i < N; ++i) {
      float *b = st->line[i];
      const size_t p = st->pos[i], k1 = st->cap[i] - p < nb ? st->cap[i] - p : nb;
      const float *u = ub[i & 1];
      rv_inject(b + p, Yl[i], hsc, u, s3[i], k1);
      rv_inject(b, Yl[i] + k1, hsc, u + k1, s3[i], nb - k1);
      st->pos[i] = p + nb >= st->cap[i] ? p + nb - st->cap[i] : p + nb;
    }
    /* The mix, smoothed towards its target frame by frame (constant once it is there). */
    if (mix == mt) {
      for (size_t t = 0; t < nb; ++t)
        mx[t] = mt;
    } else {
      for (size_t t = 0; t < nb; ++t)
        mx[t] = mix = sg_smooth_step(mix, mt, aS);
    }
    for (size_t t = 0; t < nb; ++t)
      Lb[t] = (float)((1 - mx[t]) * Lb[t] + mx[t] * ol[t] * out_scale);
    if (Rb)
      for (size_t t = 0; t < nb; ++t)
        Rb[t] = (float)((1 - mx[t]) * Rb[t] + mx[t] * orr[t] * out_scale);
  }
  for (int i = 0; i < N; ++i)
    st->lp_s[i] = vlp[i / 4][i % 4], st->hf_s[i] = vhf[i / 4][i % 4];
  st->mix_cur = mix;
}

#undef RV_N
#undef RV_FN
#undef RV_ATTR
