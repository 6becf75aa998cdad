use crate::ffi;
use crate::ffi::jpeg_common_struct;
use std::borrow::Cow;
use std::mem;
use std::os::raw::c_int;

pub use crate::ffi::jpeg_error_mgr as ErrorMgr;

#[allow(clippy::unnecessary_box_returns)]
pub(crate) fn unwinding_error_mgr() -> Box<ErrorMgr> {
    unsafe {
        let mut err = Box::new(mem::zeroed());
        ffi::jpeg_std_error(&mut err);
        err.error_exit = Some(unwind_error_exit);
        err.emit_message = Some(silence_message);
        err
    }
}

/// Photodesk: as `unwinding_error_mgr`, but libjpeg's warnings that the
/// image data is damaged unwind as errors too, where libjpeg would fill the
/// rest of the image with grey or smeared blocks and carry on (see
/// `DecompressBuilder::refusing_damaged_data`).
pub(crate) fn damage_refusing_error_mgr() -> Box<ErrorMgr> {
    let mut err = unwinding_error_mgr();
    err.emit_message = Some(unwind_on_damage);
    err
}

/// Photodesk: the warnings that mean pixels are lost. The others (bytes
/// between segments, an odd progression, an unknown JFIF version) leave
/// the pixels whole.
const DAMAGE: [ffi::J_MESSAGE_CODE; 4] = [
    ffi::JWRN_HIT_MARKER,
    ffi::JWRN_HUFF_BAD_CODE,
    ffi::JWRN_JPEG_EOF,
    ffi::JWRN_MUST_RESYNC,
];

#[cold]
extern "C-unwind" fn unwind_on_damage(cinfo: &mut jpeg_common_struct, level: c_int) {
    let code = unsafe { cinfo.err.as_ref() }.map(|err| err.msg_code);
    if level < 0 && code.is_some_and(|code| DAMAGE.contains(&code)) {
        let msg = formatted_message(crate::decompress::DAMAGED_DATA, cinfo);
        std::panic::resume_unwind(Box::new(msg));
    }
}

#[cold]
fn formatted_message(prefix: &str, cinfo: &mut jpeg_common_struct) -> String {
    unsafe {
        let err = cinfo.err.as_ref().unwrap();
        match err.format_message {
            Some(fmt) => {
                let mut buffer = mem::zeroed();
                let correct_fn_type = mem::transmute::<
                    unsafe extern "C-unwind" fn(cinfo: &mut jpeg_common_struct, buffer: &[u8; 80]),
                    unsafe extern "C-unwind" fn(cinfo: &mut jpeg_common_struct, buffer: &mut [u8; 80])>(fmt);
                (correct_fn_type)(cinfo, &mut buffer);
                let buf = buffer.split(|&c| c == 0).next().unwrap_or_default();
                let msg = String::from_utf8_lossy(buf);
                let mut out = String::with_capacity(prefix.len() + msg.len());
                push_str_in_cap(&mut out, prefix);
                push_str_in_cap(&mut out, &msg);
                out
            },
            None => format!("{}code {}", prefix, err.msg_code),
        }
    }
}

fn push_str_in_cap(out: &mut String, s: &str) {
    let needs_to_grow = s.len() > out.capacity().wrapping_sub(out.len());
    if !needs_to_grow {
        out.push_str(s);
    }
}

#[cold]
extern "C-unwind" fn silence_message(_cinfo: &mut jpeg_common_struct, _level: c_int) {
}

#[cold]
extern "C-unwind" fn unwind_error_exit(cinfo: &mut jpeg_common_struct) {
    let msg = formatted_message("libjpeg fatal error: ", cinfo);
    // avoids calling panic handler
    std::panic::resume_unwind(Box::new(msg));
}
