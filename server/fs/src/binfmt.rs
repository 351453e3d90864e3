//! Reading Jingu's little-endian binary state files (the stat cache, the saved symbol index):
//! every read is bounds-checked, so a truncated or damaged file is an error, never a panic.

pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Whether every byte was read: trailing bytes mean a damaged file.
    pub fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.pos.checked_add(n).ok_or("length overflow")?;
        let s = self.bytes.get(self.pos..end).ok_or("truncated")?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], &'static str> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, &'static str> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, &'static str> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, &'static str> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A string framed by its u16 length.
    pub fn str16(&mut self) -> Result<&'a str, &'static str> {
        let len = usize::from(self.u16()?);
        std::str::from_utf8(self.take(len)?).map_err(|_| "string is not UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::Reader;

    #[test]
    fn reads_are_bounds_checked() {
        let bytes = [1, 2, 0, 3, 0, 0, 0, 2, 0, b'h', b'i'];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16(), Ok(2));
        assert_eq!(r.u32(), Ok(3));
        assert_eq!(r.str16(), Ok("hi"));
        assert!(r.at_end());
        assert_eq!(r.u8(), Err("truncated"));
        assert_eq!(Reader::new(&[5, 0, b'a']).str16(), Err("truncated"));
        assert_eq!(
            Reader::new(&[1, 0, 0xff]).str16(),
            Err("string is not UTF-8")
        );
    }
}
